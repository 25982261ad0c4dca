// The key string of each (modelId, namespace) pair, built once and found again by the caller's own
// strings: a key built on every read would cost a concatenation and a fresh hash each time, while
// V8 keeps the hash of a string it has hashed before.

/** One namespace of a model and the pair's key string; a model's namespaces are chained. */
interface KeyNode {
  readonly namespace: string;
  readonly key: string;
  next: KeyNode | undefined;
}

export class PairKeys {
  /** modelId -> the key of its only namespace, or a chain of nodes, one per namespace. */
  #byModel = new Map<string, string | KeyNode>();

  /** The pair's key string if the pair is known. One namespace (the common case): the key itself,
   *  which ends in ':' + namespace; several: a chain of nodes. */
  keyOf(modelId: string, namespace: string): string | undefined {
    let found = this.#byModel.get(modelId);
    if (typeof found === 'string') {
      return found.length === modelId.length + 1 + namespace.length && found.endsWith(namespace)
        ? found
        : undefined;
    }
    while (found !== undefined && found.namespace !== namespace) found = found.next;
    return found?.key;
  }

  keyFor(modelId: string, namespace: string): string {
    const known = this.keyOf(modelId, namespace);
    if (known !== undefined) return known;
    // join() builds a flat string; a template literal makes a cons string that V8 flattens on the
    // first hash but keeps as a second object for as long as the key lives.
    const key = [modelId, namespace].join(':');
    const first = this.#byModel.get(modelId);
    if (first === undefined) this.#byModel.set(modelId, key);
    else this.#byModel.set(modelId, { namespace, key, next: this.#nodes(modelId, first) });
    return key;
  }

  /** The model's keys as a chain (a lone key string becomes a node). */
  #nodes(modelId: string, first: string | KeyNode): KeyNode {
    if (typeof first !== 'string') return first;
    return { namespace: first.slice(modelId.length + 1), key: first, next: undefined };
  }

  forget(modelId: string, namespace: string, key?: string): void {
    const first = this.#byModel.get(modelId);
    if (first === undefined) return;
    let node: KeyNode | undefined = this.#nodes(modelId, first);
    let prev: KeyNode | undefined;
    while (node !== undefined && node.namespace !== namespace) {
      prev = node;
      node = node.next;
    }
    if (node === undefined || (key !== undefined && node.key !== key)) return;
    if (prev) prev.next = node.next;
    else if (node.next) this.#byModel.set(modelId, node.next);
    else this.#byModel.delete(modelId);
  }

  clear(): void {
    this.#byModel = new Map();
  }
}
