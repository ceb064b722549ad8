import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "@mantine/core/styles.css";
import { App, preloadFirstScreen } from "./App";
import { createApi } from "./api/client";
import { readSession } from "./session";

// Both the session and the first screen's code are asked for before the
// first render, so that they travel while the app starts.
const api = createApi();
const session = readSession(api);
preloadFirstScreen(window.location.pathname);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App api={api} session={session} />
  </StrictMode>,
);
