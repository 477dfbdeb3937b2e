import type { Adapter, AdapterFactory, AdapterPayload } from "oidc-provider";

interface Entry {
  payload: AdapterPayload;
  /** ms since epoch; undefined = no expiry. */
  expiresAt: number | undefined;
}

/**
 * One IdP's storage: a plain Map per IdP, with expiry and the grant/user-code/session-uid
 * indexes oidc-provider needs. Used instead of oidc-provider's built-in memory adapter,
 * which is an LRU capped at 1000 entries (benchmarks would see evicted tokens) and prints a
 * "development-only in-memory adapter" warning for every Provider instance.
 */
export function memoryAdapterFactory(): AdapterFactory {
  const entries = new Map<string, Entry>();
  const grants = new Map<string, Set<string>>();
  const userCodes = new Map<string, string>();
  const uids = new Map<string, string>();

  const read = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const expiresAt = typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : undefined;
        entries.set(key(id), { payload, expiresAt });
        if (payload.grantId) {
          const members = grants.get(payload.grantId) ?? new Set<string>();
          members.add(key(id));
          grants.set(payload.grantId, members);
        }
        if (payload.userCode) userCodes.set(payload.userCode, id);
        if (model === "Session" && payload.uid) uids.set(payload.uid, id);
      },
      async find(id) {
        return read(key(id));
      },
      async findByUserCode(userCode) {
        const id = userCodes.get(userCode);
        return id === undefined ? undefined : read(key(id));
      },
      async findByUid(uid) {
        const id = uids.get(uid);
        return id === undefined ? undefined : read(key(id));
      },
      async consume(id) {
        const payload = read(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        entries.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const member of grants.get(grantId) ?? []) entries.delete(member);
        grants.delete(grantId);
      },
    };
  };
}
