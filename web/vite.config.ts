import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import { writeFileSync } from "node:fs";

// The dashboard is served by switchyard at /; in development `npm run dev`
// proxies the API to a switchyard started with `make run`.
export default defineConfig({
  plugins: [
    react(),
    {
      // dist/.gitkeep is committed so that `go build` compiles the embed
      // without a web build; the build empties dist, so put it back.
      name: "keep-dist-placeholder",
      closeBundle() {
        writeFileSync(new URL("./dist/.gitkeep", import.meta.url), "");
      },
    },
  ],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/v1": "http://127.0.0.1:8080",
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    // Typing through user-event is slow on a busy machine; the default 5 s
    // is too tight for a whole wizard walk.
    testTimeout: 30_000,
  },
});
