// The API client for modules outside lib/ (pwa.js imports it from here).
export { api, ApiError } from "./lib/api.js";
