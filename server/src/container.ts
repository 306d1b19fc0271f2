import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { sql } from 'kysely';
import type { Config, StorageKind } from './config/config.js';
import { type DatabaseHandle, databaseOptions, openDatabase } from './db/database.js';
import { ImageProcessor } from './media/image-processor.js';
import { Semaphore } from './media/semaphore.js';
import { Thumbnailer } from './media/thumbnailer.js';
import { ApiKeyRepository } from './repositories/api-key.repository.js';
import { InviteRepository } from './repositories/invite.repository.js';
import { SessionRepository } from './repositories/session.repository.js';
import { SettingRepository } from './repositories/setting.repository.js';
import { UploadRepository } from './repositories/upload.repository.js';
import { UserRepository } from './repositories/user.repository.js';
import { EmbedSettingRepository } from './repositories/embed-setting.repository.js';
import { AdminService } from './services/admin.service.js';
import { ApiKeyService } from './services/api-key.service.js';
import { type DeletionBus, LocalDeletionBus } from './services/deletion-bus.js';
import { EmbedService } from './services/embed.service.js';
import { OrphanSweeper } from './services/orphan-sweeper.js';
import { AuthService } from './services/auth.service.js';
import { FileService } from './services/file.service.js';
import { InviteService } from './services/invite.service.js';
import { MetricsService } from './services/metrics.service.js';
import { ThumbnailService } from './services/thumbnail.service.js';
import type { ScryptParams } from './services/password.js';
import { UploadLinks } from './services/upload-links.js';
import { UploadService } from './services/upload.service.js';
import { UserAdminService } from './services/user-admin.service.js';
import { UserService } from './services/user.service.js';
import { MemoryRateLimitStore } from './http/plugins/rate-limit-store.js';
import { RedisDeletionBus } from './redis/redis-deletion-bus.js';
import { RedisLink, type RedisState } from './redis/redis-link.js';
import { RedisRateLimitStore } from './redis/redis-rate-limit-store.js';
import { FileCache } from './storage/file-cache.js';
import { uploadTempDir } from './storage/data-dir.js';
import { LocalStorage } from './storage/local-storage.js';
import { S3Storage } from './storage/s3-storage.js';
import type { StorageDriver } from './storage/storage-driver.js';

export interface Container {
  config: Readonly<Config>;
  database: DatabaseHandle;
  storage: StorageDriver;
  auth: AuthService;
  apiKeys: ApiKeyService;
  invites: InviteService;
  users: UserService;
  uploads: UploadService;
  files: FileService;
  thumbnails: ThumbnailService;
  embeds: EmbedService;
  admin: UserAdminService;
  /** Prometheus metrics; undefined with METRICS=off, and then nothing is counted. */
  metrics: MetricsService | undefined;
  /** Removes what crashes leave in storage; main.ts starts it, close() stops it. */
  sweeper: OrphanSweeper;
  /** The connections to REDIS_URL; undefined without it. main.ts gives it the logger. */
  redis: RedisLink | undefined;
  /** Rate-limit counters shared through Redis; undefined = each process counts in memory. */
  rateLimitStore: FastifyRateLimitStore | undefined;
  /**
   * Throws when the database or storage cannot be reached. Redis, when configured, is reported
   * rather than required: without it a node still serves, with limits and deletions of its own.
   */
  ready(): Promise<{ storage: StorageKind; redis?: RedisState }>;
  close(): Promise<void>;
}

export interface ContainerOptions {
  /** An already open database, which the caller closes (main.ts after migrating, tests per dialect); opened from config otherwise. */
  database?: DatabaseHandle;
  /** Lowered only by tests. */
  scrypt?: ScryptParams;
  /** How deletions reach other processes. @default in-process only */
  deletions?: DeletionBus;
}

/** The composition root: every service gets its collaborators here and nowhere else. */
export async function createContainer(config: Readonly<Config>, options: ContainerOptions = {}): Promise<Container> {
  const database = options.database ?? openDatabase(databaseOptions(config));
  const { db } = database;
  const storage = await createStorage(config);
  const tempDir = uploadTempDir(config.dataDir);

  const deletionKey = await new SettingRepository(db).get('deletion_key');
  if (!deletionKey) throw new Error('The database has no deletion_key setting: migrations have not run.');
  const links = new UploadLinks(config.publicUrl, deletionKey);

  const userRepository = new UserRepository(db);
  const uploadRepository = new UploadRepository(db);
  const apiKeys = new ApiKeyService(new ApiKeyRepository(db));
  const sessionRepository = new SessionRepository(db);
  const inviteRepository = new InviteRepository(db);
  const auth = new AuthService(userRepository, sessionRepository, apiKeys, inviteRepository, {
    registration: config.registration,
    defaultQuota: config.defaultQuota,
    sessionTtlSeconds: config.sessionTtl,
    scrypt: options.scrypt,
  });
  const cache = new FileCache({ maxBytes: config.cacheSize });
  const files = new FileService(uploadRepository, storage, cache);
  // One bound for all sharp work, upload checks and thumbnails together. Each job holds one of
  // libuv's threads (4 unless UV_THREADPOOL_SIZE says otherwise) while it runs: leaving one
  // free keeps file reads, and so raw serving, moving through a burst of first thumbnails.
  const sharpSlots = new Semaphore(Math.min(availableParallelism(), 3));
  const images = new ImageProcessor({ maxPixels: config.maxPixels, semaphore: sharpSlots });
  const thumbnails = new ThumbnailService(
    files,
    storage,
    cache,
    new Thumbnailer({ maxPixels: config.maxPixels, semaphore: sharpSlots }),
    tempDir,
  );
  const metrics = config.metrics ? new MetricsService({ cache, thumbnails }) : undefined;
  const redis = config.redisUrl === undefined ? undefined : new RedisLink(config.redisUrl, config.redisPrefix);
  const inProcess = options.deletions ?? new LocalDeletionBus();
  const deletions = redis ? new RedisDeletionBus(redis, inProcess) : inProcess;
  deletions.subscribe((id) => files.forget(id));
  // Deletions published while Redis was away never arrived: what this process knew may be stale.
  redis?.onReconnect(() => files.forgetAll());
  const uploads = new UploadService(
    uploadRepository,
    storage,
    images,
    links,
    { maxFileSize: config.maxFileSize, tempDir },
    {
      stored: (rows) => {
        rows.forEach((row) => {
          files.remember(row);
          void thumbnails.anticipate(row.sha256);
        });
        metrics?.uploaded(rows.map((row) => row.size));
      },
      deleted: (id) => deletions.publish(id),
    },
  );

  const sweeper = new OrphanSweeper(uploadRepository, storage, tempDir);
  const accounts = new AdminService(userRepository, sessionRepository, { defaultQuota: config.defaultQuota, scrypt: options.scrypt });

  return {
    config,
    database,
    storage,
    auth,
    apiKeys,
    invites: new InviteService(inviteRepository),
    users: new UserService(userRepository),
    uploads,
    files,
    thumbnails,
    embeds: new EmbedService(new EmbedSettingRepository(db), uploadRepository, links, config.publicUrl),
    admin: new UserAdminService(accounts, userRepository, uploads),
    metrics,
    sweeper,
    redis,
    rateLimitStore: redis && new RedisRateLimitStore(redis, new MemoryRateLimitStore()),
    async ready() {
      await sql`select 1`.execute(db);
      await storage.check();
      return { storage: config.storage, ...(redis && { redis: await redis.state() }) };
    },
    async close() {
      // Thumbnails being stored in the background finish first, leaving nothing in tmp/.
      await thumbnails.idle();
      await sweeper.stop();
      await redis?.close();
      if (!options.database) await database.close();
    },
  };
}

/**
 * The storage driver named by STORAGE; services see only the StorageDriver interface. The
 * uploads' temp directory is made either way: uploads are staged on local disk whatever
 * stores them afterwards.
 */
export async function createStorage(config: Readonly<Config>): Promise<StorageDriver> {
  switch (config.storage) {
    case 'local':
      return LocalStorage.create(config.dataDir);
    case 's3':
      await mkdir(uploadTempDir(config.dataDir), { recursive: true });
      return S3Storage.fromConfig(config.s3!);
  }
}
