// The store's key for each (modelId, namespace) pair. A model cached in one namespace (the usual
// case) is stored under its model id, so a read finds it with the caller's own string in the store's
// one lookup. A model seen in several namespaces gets a chain of its pairs: the first keeps the model
// id as its key, every other pair is keyed by its node, an object, which no model id can equal.

/** A key in the store: a model id, or the node of one pair of a model in several namespaces. */
export type StoreKey = string | PairNode;

export class PairNode {
  readonly key: StoreKey;
  next: PairNode | undefined = undefined;
  constructor(
    readonly namespace: string,
    modelId?: string,
  ) {
    this.key = modelId ?? this;
  }
}

export class PairKeys {
  /** modelId -> its pairs, for the models seen in more than one namespace. */
  #chains = new Map<string, PairNode>();
  /** How many models have a chain: while none has, the key of every pair is its model id. */
  chains = 0;

  /** The model's chain; on a store with no chain at all, without a lookup. */
  chain(modelId: string): PairNode | undefined {
    return this.chains === 0 ? undefined : this.#chains.get(modelId);
  }

  /** The pair's key: its node's, or the model id when the model has no chain and `stored` (the
   *  namespace now under the model id, if any) is the pair's. Undefined when the pair is not known. */
  keyOf(modelId: string, namespace: string, stored: string | undefined): StoreKey | undefined {
    const chain = this.chain(modelId);
    if (chain === undefined) return stored === namespace ? modelId : undefined;
    return find(chain, namespace)?.key;
  }

  /** The key to look the pair up by: its node's, or the model id when the model has no chain (the
   *  entry found there may be another namespace's: the caller checks). */
  readKey(modelId: string, namespace: string): StoreKey | undefined {
    const chain = this.chain(modelId);
    return chain === undefined ? modelId : find(chain, namespace)?.key;
  }

  /** The key to store the pair under; a second namespace of a model starts its chain. */
  keyFor(modelId: string, namespace: string, stored: string | undefined): StoreKey {
    const chain = this.chain(modelId);
    if (chain === undefined && (stored === undefined || stored === namespace)) return modelId;
    const head = chain ?? this.open(modelId, stored!);
    const known = find(head, namespace);
    if (known !== undefined) return known.key;
    const node = new PairNode(namespace);
    node.next = head.next;
    head.next = node;
    return node;
  }

  /** Starts the model's chain with the pair stored under its model id (in namespace `stored`). */
  open(modelId: string, stored: string): PairNode {
    const head = new PairNode(stored, modelId);
    this.#chains.set(modelId, head);
    this.chains = this.#chains.size;
    return head;
  }

  /** Drops the pair stored under `key` from the model's chain, and the chain once empty. */
  forget(modelId: string, key: StoreKey): void {
    let node = this.#chains.get(modelId);
    let prev: PairNode | undefined;
    while (node !== undefined && node.key !== key) {
      prev = node;
      node = node.next;
    }
    if (node === undefined) return;
    if (prev) prev.next = node.next;
    else if (node.next) this.#chains.set(modelId, node.next);
    else this.#chains.delete(modelId);
    this.chains = this.#chains.size;
  }

  clear(): void {
    this.#chains = new Map();
    this.chains = 0;
  }
}

function find(chain: PairNode | undefined, namespace: string): PairNode | undefined {
  while (chain !== undefined && chain.namespace !== namespace) chain = chain.next;
  return chain;
}
