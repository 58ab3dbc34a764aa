import type { Redis } from 'ioredis';
import { formatChange, parseChange, type Change } from '../core/change-message.js';
import type { Store } from '../store/store.js';

/**
 * How an instance learns that what it caches went stale, and tells the
 * others when it made something stale itself.
 */
export interface ChangeFeed {
  /** What caches are keyed on: it moves whenever a committed write may have made them stale. */
  marker(): Promise<string>;
  /** Tells every instance, this one included. Never rejects: a lost message is made up for by the store poll. */
  announce(change: Change): Promise<void>;
  /** Hears every change announced, here or elsewhere. */
  onChange(listener: (change: Change) => void): void;
  /** `serve`: starts listening to the other instances. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** One instance (or several without Redis): the store's own change marker, asked on every look. */
export class LocalChangeFeed implements ChangeFeed {
  private readonly listeners: ((change: Change) => void)[] = [];

  constructor(private readonly store: Pick<Store, 'changeMarker'>) {}

  marker(): Promise<string> {
    return this.store.changeMarker();
  }

  async announce(change: Change): Promise<void> {
    for (const listener of this.listeners) listener(change);
  }

  onChange(listener: (change: Change) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {}
  async close(): Promise<void> {}
}

export interface RedisChangeFeedOptions {
  store: Pick<Store, 'changeMarker' | 'localChangeMarker'>;
  publisher: Redis;
  /** Key prefix (cache.key_prefix): the channel is `<prefix>changes`. */
  prefix: string;
  /** How often the store's marker is read while subscribed: the bound on staleness when a message is lost. */
  pollMs?: number;
  /** The first failure of each Redis outage. */
  onError?: (err: unknown) => void;
}

/**
 * Many instances on one database. While subscribed, the marker is this
 * process's own: it moves with each message from another instance, with each
 * transaction of this process, and when the once-a-`pollMs` read of the store
 * sees a change no message announced (a CLI without Redis, a lost message), so
 * a request costs no database round trip. While not subscribed (before start,
 * during an outage) it is the store's marker, read on every look, exactly as
 * with one instance.
 */
export class RedisChangeFeed implements ChangeFeed {
  private readonly listeners: ((change: Change) => void)[] = [];
  private readonly channel: string;
  private subscriber: Redis | undefined;
  private subscribed = false;
  private epoch = 0;
  private storeMarker: string | undefined;
  private poller: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(private readonly options: RedisChangeFeedOptions) {
    this.channel = `${options.prefix}changes`;
    this.onChange((change) => {
      if (change.kind === 'store') this.epoch++;
    });
  }

  async marker(): Promise<string> {
    const { store } = this.options;
    if (!this.subscribed) return `store:${await store.changeMarker()}`;
    return `feed:${this.epoch}/${store.localChangeMarker()}`;
  }

  async announce(change: Change): Promise<void> {
    try {
      await this.options.publisher.publish(this.channel, formatChange(change));
      this.failing = false;
    } catch (err) {
      this.failed(err);
      // Nobody may hear it, this instance included: at least this instance acts on it.
      this.deliver(change);
    }
  }

  onChange(listener: (change: Change) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.subscriber) return;
    const subscriber = this.options.publisher.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', () => {});
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const change = parseChange(message);
      if (change) this.deliver(change);
    });
    await subscriber.connect();
    await subscriber.subscribe(this.channel);
    this.storeMarker = await this.options.store.changeMarker();
    this.subscribed = true;
    // Messages sent while disconnected are lost: the marker is the store's until ioredis has resubscribed.
    subscriber.on('close', () => {
      this.subscribed = false;
    });
    subscriber.on('ready', () => {
      this.epoch++;
      this.subscribed = true;
    });
    this.poller = setInterval(() => void this.poll(), this.options.pollMs ?? 500);
    this.poller.unref();
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.subscribed = false;
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private async poll(): Promise<void> {
    try {
      const marker = await this.options.store.changeMarker();
      if (marker !== this.storeMarker) {
        this.storeMarker = marker;
        this.epoch++;
      }
    } catch {
      // The store is away: requests will say so; the next poll tries again.
    }
  }

  private deliver(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  private failed(err: unknown): void {
    if (!this.failing) this.options.onError?.(err);
    this.failing = true;
  }
}
