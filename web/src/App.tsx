import { lazy, Suspense, type ReactNode } from "react";
import { MantineProvider, createTheme, localStorageColorSchemeManager } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import "@mantine/notifications/styles.css";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter, Navigate, Outlet, Route, Routes, useLocation } from "react-router";
import type { Api, Session } from "./api/client";
import { SessionProvider, useSession } from "./session";
import { LiveProvider } from "./live";
import { Shell } from "./components/Shell";
import { Loading } from "./components/States";
import { LoginPage } from "./pages/Login";

// Each screen is its own chunk: the first load carries only the shell and
// the login page.
const loadProviders = () => import("./pages/Providers");
const ProvidersPage = lazy(loadProviders);
const ProviderDetailPage = lazy(() => import("./pages/ProviderDetail"));
const WizardPage = lazy(() => import("./wizard/Wizard"));
const ConnectionsPage = lazy(() => import("./pages/Connections"));
const UsersPage = lazy(() => import("./pages/Users"));
const AnalyticsPage = lazy(() => import("./pages/Analytics"));
const TransferPage = lazy(() => import("./pages/Transfer"));
const TemplatesPage = lazy(() => import("./pages/Templates"));
const AlertsPage = lazy(() => import("./pages/Alerts"));
const NotFoundPage = lazy(() => import("./pages/NotFound"));
const AdminOnlyPage = lazy(() => import("./pages/AdminOnly"));

/**
 * preloadFirstScreen starts loading the providers screen, where "/" and a
 * login lead, while the session is still being read: otherwise its chunk
 * would be fetched only once the session is known, one round trip later.
 */
export function preloadFirstScreen(path: string) {
  if (path === "/" || path === "/providers" || path === "/login") void loadProviders().catch(() => {});
}

const theme = createTheme({ primaryColor: "indigo", defaultRadius: "md" });
const colorSchemeManager = localStorageColorSchemeManager({ key: "switchyard-color-scheme" });

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false, staleTime: 5_000 },
    },
  });
}

/** App is the dashboard: theme, data cache, session and routes. */
export function App({ api, session, queryClient = makeQueryClient() }: { api: Api; session?: Promise<Session | null>; queryClient?: QueryClient }) {
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto" colorSchemeManager={colorSchemeManager}>
      <Notifications position="top-right" />
      <QueryClientProvider client={queryClient}>
        <SessionProvider api={api} first={session}>
          <BrowserRouter>
            <AppRoutes />
          </BrowserRouter>
        </SessionProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}

function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<RequireLogin />}>
        <Route path="/" element={<Navigate to="/providers" replace />} />
        <Route path="/providers" element={<ProvidersPage />} />
        <Route path="/providers/new" element={<AdminOnly><WizardPage /></AdminOnly>} />
        <Route path="/providers/:id" element={<ProviderDetailPage />} />
        <Route path="/connections" element={<ConnectionsPage />} />
        <Route path="/analytics" element={<AnalyticsPage />} />
        <Route path="/templates" element={<AdminOnly><TemplatesPage /></AdminOnly>} />
        <Route path="/alerts" element={<AdminOnly><AlertsPage /></AdminOnly>} />
        <Route path="/alerts/:tab" element={<AdminOnly><AlertsPage /></AdminOnly>} />
        <Route path="/transfer" element={<AdminOnly><TransferPage /></AdminOnly>} />
        <Route path="/transfer/:tab" element={<AdminOnly><TransferPage /></AdminOnly>} />
        <Route path="/users" element={<AdminOnly><UsersPage /></AdminOnly>} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

function RequireLogin() {
  const { user, api } = useSession();
  const loc = useLocation();
  if (user === undefined) return <Loading label="Loading your session" />;
  if (user === null) {
    const next = loc.pathname + loc.search;
    return <Navigate to={`/login${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`} replace />;
  }
  return (
    <LiveProvider url={`${api.baseUrl}/events`}>
      <Shell>
        <Suspense fallback={<Loading label="Loading" />}>
          <Outlet />
        </Suspense>
      </Shell>
    </LiveProvider>
  );
}

function AdminOnly({ children }: { children: ReactNode }) {
  const { isAdmin } = useSession();
  return isAdmin ? <>{children}</> : <AdminOnlyPage />;
}
