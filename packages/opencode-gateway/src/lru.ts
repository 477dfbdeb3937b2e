/**
 * A least-recently-used map with a fixed number of entries: reading an entry makes it the
 * newest, and setting one past `max` drops the oldest. It bounds memory the outside world can
 * fill (one entry per distinct token a client sends).
 *
 * The order is a list through the entries themselves, so a hit only moves two links and
 * allocates nothing. (Deleting and re-inserting into a Map, the shorter way to keep the order,
 * makes V8 rebuild the Map's table every few hits; for a Map in the old generation, as a
 * long-lived cache is, each new table is made there too, and under load that garbage grows the
 * heap until a full collection.) The Map changes only when a key comes or goes.
 */
interface Entry<K, V> {
  readonly key: K;
  value: V;
  newer: Entry<K, V> | undefined;
  older: Entry<K, V> | undefined;
}

export class Lru<K, V> {
  readonly #entries = new Map<K, Entry<K, V>>();
  #newest: Entry<K, V> | undefined;
  #oldest: Entry<K, V> | undefined;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError("max must be a positive integer");
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#touch(entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    const known = this.#entries.get(key);
    if (known !== undefined) {
      known.value = value;
      this.#touch(known);
      return;
    }
    const entry: Entry<K, V> = { key, value, newer: undefined, older: undefined };
    this.#makeNewest(entry);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.max && this.#oldest) this.#drop(this.#oldest);
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#drop(entry);
  }

  #touch(entry: Entry<K, V>): void {
    if (entry === this.#newest) return;
    this.#unlink(entry);
    this.#makeNewest(entry);
  }

  /** Links an entry that is in no list as the newest. */
  #makeNewest(entry: Entry<K, V>): void {
    entry.older = this.#newest;
    entry.newer = undefined;
    if (this.#newest) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
  }

  #unlink(entry: Entry<K, V>): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
  }

  #drop(entry: Entry<K, V>): void {
    this.#unlink(entry);
    this.#entries.delete(entry.key);
  }
}
