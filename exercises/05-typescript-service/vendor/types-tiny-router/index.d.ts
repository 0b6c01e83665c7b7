// Type definitions for tiny-router 1.0.
// Only the TypeScript compiler reads this file, so the service needs it to be
// built, not to run: it is a devDependency.
import type { IncomingMessage, RequestListener, ServerResponse } from "http";

export type Params = Record<string, string>;

export type Handler = (req: IncomingMessage, res: ServerResponse, params: Params) => void;

export interface Route {
  readonly method: string;
  readonly pattern: string;
}

export declare class Router {
  readonly routes: ReadonlyArray<Route>;
  add(method: string, pattern: string, handler: Handler): this;
  get(pattern: string, handler: Handler): this;
  /** A listener for http.createServer: 404, 405 or 400 when no route fits. */
  listener(): RequestListener;
}
