import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliToken, type RunningGateway, startGateway, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";

/**
 * The relay's connection to the model server, over HTTP: a client that reads slowly holds the
 * upstream back instead of the gateway buffering the answer, and a kept-alive connection the
 * model server closed while idle costs the client nothing (the request is sent again on a fresh
 * one).
 */

let idp: IssuerStub;
let token: string;
const servers: Server[] = [];
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  idp = await startIssuerStub();
  token = await cliToken(idp, "grace");
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  for (const server of servers) server.close();
  await idp.close();
});

const listening = async (server: Server): Promise<string> => {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/v1`;
};
const gatewayFor = async (baseURL: string, bodyTimeoutMs?: number) => {
  const gw = await startGateway(
    testConfig(idp.issuer, { baseURL, ...(bodyTimeoutMs ? { bodyTimeoutMs } : {}) }),
  );
  gateways.push(gw);
  return gw;
};

describe("a client that reads slower than the model server sends", () => {
  const TOTAL = 64 * 1024 * 1024;
  const CHUNK = Buffer.alloc(64 * 1024, "a");

  it("holds the model server back until it reads, then gets every byte (its pause is not the model server's)", async () => {
    const sent = { bytes: 0, waiting: false };
    const baseURL = await listening(
      createHttpServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const more = () => {
          sent.waiting = false;
          while (sent.bytes < TOTAL) {
            sent.bytes += CHUNK.length;
            if (!res.write(CHUNK)) {
              sent.waiting = true;
              res.once("drain", more);
              return;
            }
          }
          res.end();
        };
        more();
      }),
    );
    // A pause in the answer of 1 s would give up on the model server, but this one is the client's.
    const gw = await gatewayFor(baseURL, 1000);
    const answer = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      httpRequest(`${gw.url}/v1/files/big`, { headers: { authorization: `Bearer ${token}` } })
        .on("response", resolve)
        .on("error", reject)
        .end();
    });
    expect(answer.statusCode).toBe(200);
    // Nothing read yet: the model server stops, left waiting with most of the answer unsent
    // (without the hold, the gateway would read it all into memory).
    answer.pause();
    let stalledAt: number | undefined;
    for (let i = 0; i < 30 && stalledAt === undefined; i++) {
      const before = sent.bytes;
      await new Promise((r) => setTimeout(r, 300));
      if (sent.waiting && sent.bytes === before && before < TOTAL) stalledAt = before;
    }
    expect(stalledAt).toBeLessThan(TOTAL / 2);
    // Longer than bodyTimeoutMs without reading.
    await new Promise((r) => setTimeout(r, 1500));

    let received = 0;
    answer.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    answer.resume();
    // "close" too: an answer cut short ends without "end".
    await new Promise((resolve) => {
      answer.on("end", resolve);
      answer.on("close", resolve);
    });
    expect(received).toBe(TOTAL);
  });
});

/**
 * A model server on raw TCP that reads each request whole and, as `answers(nth)` says (the nth
 * request on its connection, from 0), answers it or drops the connection unanswered.
 * `requests` lists the connection each request arrived on.
 */
async function droppingServer(answers: (nth: number) => boolean) {
  const body = JSON.stringify({ id: "done", object: "chat.completion" });
  const requests: number[] = [];
  let connections = 0;
  const baseURL = await listening(
    createTcpServer((socket: Socket) => {
      const connection = ++connections;
      let seen = "";
      let nth = 0;
      socket.on("data", (data) => {
        seen += data.toString("latin1");
        while (seen.includes("\r\n\r\n")) {
          const end = seen.indexOf("\r\n\r\n") + 4;
          const length = Number(/content-length: *(\d+)/i.exec(seen.slice(0, end))?.[1] ?? 0);
          if (seen.length < end + length) return;
          seen = seen.slice(end + length);
          requests.push(connection);
          if (!answers(nth++)) {
            socket.destroy();
            return;
          }
          socket.write(
            `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
          );
        }
      });
      socket.on("error", () => {});
    }),
  );
  return { baseURL, body, requests };
}

const ask = (gw: RunningGateway) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "team/coder", messages: [] }),
  });

describe("a kept-alive connection the model server closed while idle", () => {
  it("sends the request again on a fresh connection: the client gets the answer", async () => {
    // Answers the first request of each connection and drops the connection, unanswered, when a
    // second one arrives on it (an idle timeout that fired as the request came in).
    const server = await droppingServer((nth) => nth === 0);
    const gw = await gatewayFor(server.baseURL);
    const first = await ask(gw);
    expect(first.status).toBe(200);
    await first.text();
    const second = await ask(gw);
    expect(second.status).toBe(200);
    expect(await second.text()).toBe(server.body);
    // Sent on the kept-alive connection, dropped there, sent again on a new one.
    expect(server.requests).toEqual([1, 1, 2]);
  });
});

describe("a model server that drops a fresh connection with the request unanswered", () => {
  it("is not sent the request twice: it may have started on it; the client gets a 502", async () => {
    const server = await droppingServer(() => false);
    const gw = await gatewayFor(server.baseURL);
    const answer = await ask(gw);
    expect(answer.status).toBe(502);
    await answer.text();
    expect(server.requests).toEqual([1]);
  });
});
