// Versioned schema of a project file. PRAGMA user_version holds the number of migrations applied;
// each entry upgrades from the previous version. Never edit a shipped migration: append a new one.
export const MIGRATIONS: readonly string[] = [
  /* 1 */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE models (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    source TEXT,
    sha256 TEXT,
    input_convention TEXT NOT NULL,
    random_seed INTEGER,
    created_at TEXT NOT NULL
  );
  CREATE TABLE layers (
    model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    op TEXT NOT NULL,
    shape TEXT NOT NULL,
    rf_size INTEGER,
    rf_jump INTEGER,
    rf_offset REAL,
    PRIMARY KEY (model_id, name)
  );
  CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    model_id TEXT NOT NULL,
    layer TEXT NOT NULL,
    channel INTEGER NOT NULL,
    y INTEGER NOT NULL DEFAULT -1,
    x INTEGER NOT NULL DEFAULT -1,
    starred INTEGER NOT NULL DEFAULT 0,
    UNIQUE (model_id, layer, channel, y, x)
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    model_id TEXT NOT NULL,
    settings TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled','interrupted')),
    backend TEXT,
    app_version TEXT NOT NULL,
    progress_step INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    eta_seconds REAL,
    message TEXT,
    error TEXT,
    checkpoint TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    compute_seconds REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
  );
  CREATE INDEX runs_status ON runs(status);
  CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    unit_id INTEGER REFERENCES units(id),
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, key)
  );
  CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    png BLOB NOT NULL
  );
  CREATE INDEX images_result ON images(result_id);
  CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE unit_tags (
    unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (unit_id, tag_id)
  );
  CREATE TABLE notes (target TEXT PRIMARY KEY, text TEXT NOT NULL, updated_at TEXT NOT NULL);
  `,
  /* 2 */ `
  ALTER TABLE models ADD COLUMN convention_guessed INTEGER NOT NULL DEFAULT 0;
  `,
  /* 3 */ `
  -- The unit index: which stored results measure which units, with their numbers and images
  -- (src/shared/analyses/unit-entries.ts). Rows go with their result when it is replaced.
  CREATE TABLE unit_results (
    unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL,
    PRIMARY KEY (unit_id, result_id)
  ) WITHOUT ROWID;
  CREATE INDEX unit_results_result ON unit_results(result_id);
  CREATE TABLE unit_metrics (
    unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (unit_id, result_id, metric)
  ) WITHOUT ROWID;
  CREATE INDEX unit_metrics_result ON unit_metrics(result_id);
  CREATE INDEX unit_metrics_metric ON unit_metrics(metric);
  CREATE TABLE unit_images (
    unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    priority INTEGER NOT NULL,
    PRIMARY KEY (unit_id, result_id, idx)
  ) WITHOUT ROWID;
  CREATE INDEX unit_images_result ON unit_images(result_id);
  CREATE INDEX unit_images_image ON unit_images(image_id);
  CREATE INDEX units_layer ON units(model_id, layer);
  CREATE INDEX unit_tags_tag ON unit_tags(tag_id);

  CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at TEXT NOT NULL
  );
  CREATE TABLE collection_units (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (collection_id, unit_id)
  ) WITHOUT ROWID;
  CREATE INDEX collection_units_unit ON collection_units(unit_id);

  -- Undo history of curation: each step holds the operations that undo and redo it (JSON) and
  -- what each does in words.
  -- Steps with undone = 1 form the redo side; a new step clears them.
  CREATE TABLE curation_log (
    id INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    undo_description TEXT NOT NULL,
    undo_ops TEXT NOT NULL,
    redo_ops TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  );

  -- Full-text search in notes, kept in step with the notes table.
  CREATE VIRTUAL TABLE notes_fts USING fts5(target UNINDEXED, text, tokenize = 'unicode61 remove_diacritics 2');
  INSERT INTO notes_fts(target, text) SELECT target, text FROM notes;
  CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(target, text) VALUES (new.target, new.text);
  END;
  CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
    DELETE FROM notes_fts WHERE target = old.target;
  END;
  CREATE TRIGGER notes_fts_update AFTER UPDATE ON notes BEGIN
    DELETE FROM notes_fts WHERE target = old.target;
    INSERT INTO notes_fts(target, text) VALUES (new.target, new.text);
  END;
  `,
  /* 4 */ `
  -- Sweeps (src/shared/sweeps.ts): one analysis over many units, split into shards that run on
  -- this machine, on queue workers or as Slurm array tasks. A finished shard is an ordinary run
  -- (run_id); result_digest makes a second delivery of the same shard a no-op.
  CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE sweep_shards (
    sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    model_id TEXT NOT NULL,
    layer TEXT NOT NULL,
    units TEXT,
    settings TEXT NOT NULL,
    seed INTEGER NOT NULL,
    digest TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','queued','running','done','failed','cancelled')),
    run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    error TEXT,
    progress_step INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    result_digest TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sweep_id, idx)
  ) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
/** PRAGMA application_id of Artiphys projects ("ARTI"): tells our files from other SQLite files. */
export const APPLICATION_ID = 0x41525449;
