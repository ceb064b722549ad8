import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "@mantine/core/styles.css";
import { App } from "./App";
import { createApi } from "./api/client";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App api={createApi()} />
  </StrictMode>,
);
