// The console is served under /console/ (by the local gateway in `make serve`, by CloudFront in AWS); the
// API is the same origin's, or config.json's `api` when the console is hosted apart from it.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
});
