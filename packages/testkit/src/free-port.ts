import { createServer } from "node:net";

/**
 * A port that was free a moment ago on 127.0.0.1 (bind 0, read it, release it), for servers
 * that cannot listen on port 0 and say which port they got (redis-server, tinyproxy). Another
 * process may take it in between: callers retry their start on a new one.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
