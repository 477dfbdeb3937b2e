// The pieces of the credential formats that take hostile or odd input, checked directly; the
// formats end to end, with their real consumers, are in cli-token-formats.test.ts.
import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { requestedApiVersion } from "../src/cli/credential/exec-credential.js";
import { readGitRequest } from "../src/cli/credential/git-credential.js";
import { printableToken } from "../src/cli/credential/issued-token.js";
import { envName, exportLine } from "../src/cli/credential/shell-env.js";

describe("env lines", () => {
  it("survive a real shell's eval whatever the token holds", () => {
    const hostile = [
      "plain.jwt-ish_value~+/=",
      "it's",
      "'; touch /tmp/pwned; echo '",
      '$(id) `id` $HOME \\n "double"',
      "multi\nline",
      "",
    ];
    for (const value of hostile) {
      const printed = execFileSync(
        "sh",
        ["-c", `eval "$1"; printf %s "$X"`, "sh", exportLine("X", value)],
        {
          encoding: "utf8",
        },
      );
      expect(printed).toBe(value);
    }
  });

  it("take only names a shell can export", () => {
    expect(envName(undefined)).toBe("OPENAI_API_KEY");
    expect(envName("_corp_Token2")).toBe("_corp_Token2");
    for (const bad of ["2X", "A-B", "A B", "X;rm", "", "A=B"]) {
      expect(() => envName(bad), bad).toThrow(/--env must name an environment variable/);
    }
  });
});

describe("git's credential request", () => {
  const read = (...chunks: string[]) => readGitRequest(Readable.from(chunks));

  it("ends at the blank line or the end of input, across chunks and CRLF", async () => {
    expect(
      Object.fromEntries(await read("protocol=https\nho", "st=git.example.com\n\nignored=1\n")),
    ).toEqual({ protocol: "https", host: "git.example.com" });
    expect(Object.fromEntries(await read("protocol=https\r\nhost=a=b\r\n"))).toEqual({
      protocol: "https",
      host: "a=b",
    });
    expect((await read("")).size).toBe(0);
  });

  it("refuses input larger than git ever sends", async () => {
    await expect(read("x=".padEnd(70 * 1024, "y"))).rejects.toThrow(/larger than git ever sends/);
  });
});

describe("KUBERNETES_EXEC_INFO", () => {
  const info = (apiVersion: unknown) => ({
    KUBERNETES_EXEC_INFO: JSON.stringify({ kind: "ExecCredential", apiVersion }),
  });
  it("names the apiVersion to answer in; v1beta1 when unset", () => {
    expect(requestedApiVersion({})).toBe("client.authentication.k8s.io/v1beta1");
    expect(requestedApiVersion(info("client.authentication.k8s.io/v1"))).toBe(
      "client.authentication.k8s.io/v1",
    );
    expect(() => requestedApiVersion(info(7))).toThrow(/names no apiVersion/);
  });
});

describe("tokens the formats print", () => {
  it("are refused, without being echoed, when they hold a line break or control character", () => {
    const token = (accessToken: string) => ({
      providerId: "corp",
      accessToken,
      tokenType: "Bearer",
    });
    expect(printableToken(token("abc.def-ghi_~+/=")).accessToken).toBe("abc.def-ghi_~+/=");
    for (const bad of ["abc\r\nX-Injected: 1", "abc\0", "tök"]) {
      expect(() => printableToken(token(bad))).toThrow(/refusing to print it/);
      try {
        printableToken(token(bad));
      } catch (error) {
        expect((error as Error).message).not.toContain("abc");
      }
    }
  });
});
