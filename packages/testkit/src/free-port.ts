import { createServer } from "node:net";

/**
 * A port that was free a moment ago on 127.0.0.1 (bind 0, read it, release it), for servers
 * that cannot listen on port 0 and say which port they got (redis-server, tinyproxy, verdaccio,
 * opencode serve). Another process may take it in between: {@link startOnFreePort} retries.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/**
 * Runs `start` on a free port, and again on a new one when it fails (the port was taken in
 * between, or the server failed for another reason), up to `attempts` times. Rejects with every
 * failure's message when none worked.
 */
export async function startOnFreePort<T>(
  start: (port: number) => Promise<T>,
  attempts: number,
): Promise<{ port: number; started: T }> {
  const failures: string[] = [];
  while (failures.length < attempts) {
    const port = await freePort();
    try {
      return { port, started: await start(port) };
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(failures.join("\n---\n"));
}
