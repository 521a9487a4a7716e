/**
 * Indexed binary min-heap over node ids 0..n-1 with decrease-key, backed by typed arrays.
 * Reused across queries: `clear()` is O(touched) so a query on a 10k-node graph costs nothing to set up.
 * Keys are numbers (integer ms in practice); ties break by node id so searches are deterministic.
 */
export class IndexedHeap {
  private readonly heap: Int32Array;
  private readonly pos: Int32Array; // -1: not in heap
  private readonly key: Float64Array;
  private size = 0;

  constructor(n: number) {
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.key = new Float64Array(n);
  }

  get length(): number {
    return this.size;
  }
  has(v: number): boolean {
    return this.pos[v] >= 0;
  }
  minKey(): number {
    return this.size ? this.key[this.heap[0]] : Infinity;
  }

  /** Insert or decrease. Returns false when the node is in the heap with a key already ≤ k. */
  push(v: number, k: number): boolean {
    const p = this.pos[v];
    if (p >= 0) {
      if (k >= this.key[v]) return false;
      this.key[v] = k;
      this.up(p);
      return true;
    }
    this.key[v] = k;
    this.heap[this.size] = v;
    this.pos[v] = this.size;
    this.up(this.size++);
    return true;
  }

  pop(): number {
    const top = this.heap[0];
    this.pos[top] = -1;
    const last = this.heap[--this.size];
    if (this.size > 0) {
      this.heap[0] = last;
      this.pos[last] = 0;
      this.down(0);
    }
    return top;
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.pos[this.heap[i]] = -1;
    this.size = 0;
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a], kb = this.key[b];
    return ka < kb || (ka === kb && a < b);
  }
  private up(i: number): void {
    const h = this.heap, v = h[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(v, h[parent])) break;
      h[i] = h[parent];
      this.pos[h[i]] = i;
      i = parent;
    }
    h[i] = v;
    this.pos[v] = i;
  }
  private down(i: number): void {
    const h = this.heap, v = h[i], n = this.size;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], v)) break;
      h[i] = h[c];
      this.pos[h[i]] = i;
      i = c;
    }
    h[i] = v;
    this.pos[v] = i;
  }
}
