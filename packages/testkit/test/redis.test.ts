import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../src/index.js";

/** The kit's redis-server: it answers on its port, dies on `kill`, comes back on `restart`. */

/** Sends one inline command and resolves with the whole reply, or the socket error code. */
function send(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    socket.setEncoding("utf8");
    // QUIT makes the server close the connection once it has answered the command.
    socket.on("connect", () => socket.write(`${command}\r\nQUIT\r\n`));
    socket.on("data", (chunk: string) => {
      reply += chunk;
    });
    socket.on("end", () => resolve(reply.replace(/\+OK\r\n$/, "")));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
  });
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.close());

describe("startRedis", () => {
  it("serves on loopback without persistence, and forgets everything across a crash", async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await send(redis.port, "SET k 1")).toBe("+OK\r\n");
    expect(await send(redis.port, "CONFIG GET save")).toBe("*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    expect(await send(redis.port, "CONFIG GET appendonly")).toBe(
      "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
    );
    await redis.kill();
    expect(await send(redis.port, "PING")).toBe("ECONNREFUSED");
    await redis.restart();
    expect(await send(redis.port, "PING")).toBe("+PONG\r\n");
    expect(await send(redis.port, "GET k")).toBe("$-1\r\n");
  });

  it("starts two servers on two ports", async () => {
    const other = await startRedis();
    try {
      expect(other.port).not.toBe(redis.port);
      expect(await send(other.port, "PING")).toBe("+PONG\r\n");
    } finally {
      await other.close();
    }
    expect(await send(other.port, "PING")).toBe("ECONNREFUSED");
  });
});
