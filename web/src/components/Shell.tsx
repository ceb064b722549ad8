import type { ReactNode } from "react";
import { ActionIcon, AppShell, Badge, Burger, Button, Group, NavLink, Text, Title, Tooltip, useComputedColorScheme, useMantineColorScheme } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Link, useLocation } from "react-router";
import { useSession } from "../session";
import { useLive, type LiveState } from "../live";

const liveLook: Record<LiveState, { color: string; label: string; tip: string }> = {
  live: { color: "green", label: "Live", tip: "Status changes arrive as they happen" },
  connecting: { color: "yellow", label: "Connecting", tip: "Connecting to the live event stream" },
  offline: { color: "gray", label: "Offline", tip: "No live events: the screens refresh every 15 seconds" },
};

/** LiveIndicator says whether status changes arrive live. */
export function LiveIndicator() {
  const state = useLive();
  const look = liveLook[state];
  return (
    <Tooltip label={look.tip}>
      <Badge color={look.color} variant="dot" role="status" aria-label={`Live updates: ${look.label.toLowerCase()}`} data-live={state}>
        {look.label}
      </Badge>
    </Tooltip>
  );
}

interface Item {
  to: string;
  label: string;
  admin?: boolean;
}

const items: Item[] = [
  { to: "/providers", label: "Providers" },
  { to: "/providers/new", label: "Add provider", admin: true },
  { to: "/templates", label: "Templates", admin: true },
  { to: "/connections", label: "Connections" },
  { to: "/analytics", label: "Analytics" },
  { to: "/users", label: "Users", admin: true },
  { to: "/alerts", label: "Alerts", admin: true },
  { to: "/transfer", label: "Import and export", admin: true },
];

/** ThemeToggle switches between the light and dark themes. */
export function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme("light");
  const next = scheme === "dark" ? "light" : "dark";
  return (
    <Tooltip label={`Switch to the ${next} theme`}>
      <ActionIcon variant="default" size="lg" aria-label={`Switch to the ${next} theme`} onClick={() => setColorScheme(next)}>
        <span aria-hidden>{scheme === "dark" ? "☀" : "☾"}</span>
      </ActionIcon>
    </Tooltip>
  );
}

/** Shell is the frame of every screen after login: header, navigation, content. */
export function Shell({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const { user, isAdmin, logout } = useSession();
  const loc = useLocation();
  const visible = items.filter((i) => !i.admin || isAdmin);
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={1} size="h4">Switchyard</Title>
          </Group>
          <Group gap="sm">
            <LiveIndicator />
            <Text size="sm" c="dimmed" data-testid="whoami">
              {user?.username}
            </Text>
            <Badge variant="light" color={isAdmin ? "indigo" : "gray"}>{user?.role}</Badge>
            <ThemeToggle />
            <Button
              variant="default"
              size="xs"
              onClick={async () => {
                await logout();
                // A fresh page: nothing of this session stays in memory.
                window.location.assign("/login");
              }}
            >
              Log out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        <nav>
          {visible.map((i) => (
            <NavLink
              key={i.to}
              component={Link}
              to={i.to}
              label={i.label}
              onClick={close}
              active={i.to === "/providers" ? loc.pathname === "/providers" || (/^\/providers\/(?!new)/.test(loc.pathname)) : loc.pathname.startsWith(i.to)}
            />
          ))}
        </nav>
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
