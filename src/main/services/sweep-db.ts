// Sweeps and their shards in the project (migration 4), and the one place a shard's results are
// written: whichever way a shard ran (this machine, a queue worker, a Slurm task), its outcome is
// stored here once, as an ordinary run of the project.
import { createHash, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '../../shared/api/errors';
import { canonicalJson, shardSweep, sweepState, type ShardOutcome, type ShardState, type ShardStatus, type SweepShard, type SweepSpec } from '../../shared/sweeps';
import { APP_VERSION } from '../version';
import type { ProjectDb } from './project-db';

export interface StoredShard extends SweepShard, ShardStatus {
  digest: string;
}

export interface SweepRecord {
  id: number;
  uid: string;
  title: string;
  spec: SweepSpec;
  createdAt: string;
  state: ReturnType<typeof sweepState>;
  shards: StoredShard[];
}

interface ShardRow {
  idx: number;
  kind: SweepShard['kind'];
  model_id: string;
  layer: string;
  units: string | null;
  settings: string;
  seed: number;
  digest: string;
  state: ShardState;
  run_id: number | null;
  attempts: number;
  worker: string | null;
  error: string | null;
  progress_step: number;
  progress_total: number;
}

const now = () => new Date().toISOString();

/** What identifies a shard's work: the same kind, settings and seed give the same digest on every machine. */
export function shardDigest(shard: Pick<SweepShard, 'kind' | 'settings' | 'seed'>): string {
  return createHash('sha256').update(canonicalJson({ kind: shard.kind, settings: shard.settings, seed: shard.seed })).digest('hex');
}

export class SweepDb {
  constructor(
    private readonly db: Database.Database,
    private readonly project: ProjectDb,
  ) {}

  /** Records a sweep and its shards (all pending); `uid` is given when a shard project copies its sweep. */
  create(spec: SweepSpec, title: string, uid: string = randomUUID()): SweepRecord {
    const shards = shardSweep(spec);
    const id = this.db.transaction(() => {
      const r = this.db.prepare(`INSERT INTO sweeps(uid, title, spec, created_at) VALUES (?, ?, ?, ?)`).run(uid, title, JSON.stringify(spec), now());
      const sweepId = Number(r.lastInsertRowid);
      const insert = this.db.prepare(
        `INSERT INTO sweep_shards(sweep_id, idx, kind, model_id, layer, units, settings, seed, digest, state, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
      );
      for (const s of shards) {
        insert.run(sweepId, s.index, s.kind, s.modelId, s.layer, s.units ? JSON.stringify(s.units) : null, JSON.stringify(s.settings), s.seed, shardDigest(s), now());
      }
      return sweepId;
    })();
    return this.get(id)!;
  }

  get(id: number): SweepRecord | null {
    const row = this.db.prepare(`SELECT * FROM sweeps WHERE id = ?`).get(id) as
      | { id: number; uid: string; title: string; spec: string; created_at: string }
      | undefined;
    if (!row) return null;
    const shards = (this.db.prepare(`SELECT * FROM sweep_shards WHERE sweep_id = ? ORDER BY idx`).all(id) as ShardRow[]).map(toShard);
    return {
      id: row.id,
      uid: row.uid,
      title: row.title,
      spec: JSON.parse(row.spec),
      createdAt: row.created_at,
      state: sweepState(shards.map((s) => s.state)),
      shards,
    };
  }

  byUid(uid: string): SweepRecord | null {
    const row = this.db.prepare(`SELECT id FROM sweeps WHERE uid = ?`).get(uid) as { id: number } | undefined;
    return row ? this.get(row.id) : null;
  }

  list(): SweepRecord[] {
    return (this.db.prepare(`SELECT id FROM sweeps ORDER BY id`).all() as { id: number }[]).map((r) => this.get(r.id)!);
  }

  setShardState(sweepId: number, index: number, state: ShardState, extra: { error?: string | null; worker?: string; countAttempt?: boolean } = {}): void {
    this.db
      .prepare(
        `UPDATE sweep_shards SET state = ?, error = CASE WHEN ? THEN ? ELSE error END, worker = coalesce(?, worker),
           attempts = attempts + ?, updated_at = ? WHERE sweep_id = ? AND idx = ? AND state != 'done'`,
      )
      .run(state, extra.error !== undefined ? 1 : 0, extra.error ?? null, extra.worker ?? null, extra.countAttempt ? 1 : 0, now(), sweepId, index);
  }

  setShardProgress(sweepId: number, index: number, step: number, total: number): void {
    this.db
      .prepare(`UPDATE sweep_shards SET progress_step = ?, progress_total = ?, updated_at = ? WHERE sweep_id = ? AND idx = ?`)
      .run(step, total, now(), sweepId, index);
  }

  /**
   * Stores a shard's outcome as one run with its results and images, atomically. A shard already
   * stored is left as it is ('duplicate'): a second delivery changes nothing. An outcome of
   * another sweep, or of other settings than the shard's, is refused.
   */
  storeOutcome(sweep: Pick<SweepRecord, 'id' | 'uid' | 'title'>, outcome: ShardOutcome): 'stored' | 'duplicate' {
    if (outcome.sweepUid !== sweep.uid) throw new ApiError('bad_request', `shard ${outcome.index} belongs to sweep ${outcome.sweepUid}, not ${sweep.uid}`);
    return this.db.transaction(() => {
      const row = this.db.prepare(`SELECT * FROM sweep_shards WHERE sweep_id = ? AND idx = ?`).get(sweep.id, outcome.index) as ShardRow | undefined;
      if (!row) throw new ApiError('bad_request', `sweep ${sweep.uid} has no shard ${outcome.index}`);
      if (row.digest !== outcome.digest) {
        throw new ApiError('bad_request', `shard ${outcome.index} was run with other settings than sweep ${sweep.uid} gives it (digest ${outcome.digest.slice(0, 12)}, expected ${row.digest.slice(0, 12)})`);
      }
      if (row.state === 'done') return 'duplicate';
      if (outcome.status !== 'done') {
        // Nothing finished to keep: the shard records why, and runs again when the sweep does.
        this.setShardState(sweep.id, outcome.index, outcome.status, { error: outcome.error ?? null, worker: outcome.worker });
        return 'stored';
      }
      const shard = toShard(row);
      const run = this.project.createRun({
        kind: shard.kind,
        title: `${sweep.title} · shard ${shard.index}`,
        modelId: shard.modelId,
        settings: shard.settings,
        seed: shard.seed,
        appVersion: APP_VERSION,
      });
      this.project.markRunStarted(run.id, outcome.backend);
      for (const r of outcome.results) {
        this.project.addResult(run.id, r.key, r.data, r.images.map((i) => ({ name: i.name, width: i.width, height: i.height, png: Buffer.from(i.pngBase64, 'base64') })));
      }
      this.project.addComputeSeconds(run.id, outcome.computeSeconds);
      this.project.setRunStatus(run.id, 'done');
      this.db
        .prepare(
          `UPDATE sweep_shards SET state = 'done', run_id = ?, error = NULL, worker = ?, result_digest = ?, progress_step = progress_total, updated_at = ?
           WHERE sweep_id = ? AND idx = ?`,
        )
        .run(run.id, outcome.worker, outcomeDigest(outcome), now(), sweep.id, outcome.index);
      return 'stored' as const;
    })();
  }

  /** A stored shard's run read back as the outcome that would store it again (for merging shard projects). */
  outcomeOf(sweep: SweepRecord, index: number): ShardOutcome | null {
    const shard = sweep.shards[index];
    if (!shard || shard.state !== 'done' || shard.runId === null) return null;
    const run = this.project.getRun(shard.runId)!;
    const computed = this.db.prepare(`SELECT compute_seconds s FROM runs WHERE id = ?`).get(run.id) as { s: number };
    return {
      sweepUid: sweep.uid,
      index,
      digest: shard.digest,
      status: 'done',
      backend: run.backend ?? 'unknown',
      computeSeconds: computed.s,
      worker: shard.worker ?? 'unknown',
      results: this.project.listResults(run.id).map((r) => ({
        key: r.key,
        data: r.data,
        images: r.imageIds.map((id) => {
          const img = this.project.getImage(id)!;
          const name = (this.db.prepare(`SELECT name FROM images WHERE id = ?`).get(id) as { name: string }).name;
          return { name, width: img.width, height: img.height, pngBase64: img.png.toString('base64') };
        }),
      })),
    };
  }
}

/** Digest of what a shard produced (keys, data, image bytes): equal outcomes have equal digests. */
export function outcomeDigest(outcome: ShardOutcome): string {
  return createHash('sha256').update(canonicalJson(outcome.results)).digest('hex');
}

function toShard(r: ShardRow): StoredShard {
  return {
    index: r.idx,
    kind: r.kind,
    modelId: r.model_id,
    layer: r.layer,
    units: r.units ? JSON.parse(r.units) : null,
    settings: JSON.parse(r.settings),
    seed: r.seed,
    digest: r.digest,
    state: r.state,
    runId: r.run_id,
    attempts: r.attempts,
    worker: r.worker,
    error: r.error,
    progress: { step: r.progress_step, total: r.progress_total },
  };
}
