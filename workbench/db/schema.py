"""Versioned schema migrations, applied in order and recorded in `PRAGMA user_version`.

A migration is a list of SQL statements; never edit a released one, add the next.
Times are Unix seconds (REAL); JSON columns hold text produced by `json.dumps`.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[list[str]] = [
    # 1: the tables of docs/architecture.md, "The project folder and database".
    [
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT
        )""",
        """CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            source TEXT NOT NULL,            -- demo | local | cache | hub
            path TEXT NOT NULL,              -- folder, or hub id for source=hub
            revision TEXT,
            trust_remote_code INTEGER NOT NULL DEFAULT 0,
            allow_pickle INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE prompts (
            id INTEGER PRIMARY KEY,
            text TEXT,                       -- plain prompt, or NULL when messages is set
            messages TEXT,                   -- JSON list of {role, content}
            split TEXT NOT NULL DEFAULT 'train',
            reference TEXT,                  -- known answer, if any
            tags TEXT NOT NULL DEFAULT '[]',
            metadata TEXT NOT NULL DEFAULT '{}',
            source TEXT,                     -- file it was imported from
            created_at REAL NOT NULL,
            CHECK (text IS NOT NULL OR messages IS NOT NULL)
        )""",
        "CREATE INDEX prompts_split ON prompts(split)",
        """CREATE TABLE checkpoints (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            step INTEGER NOT NULL,
            path TEXT NOT NULL,
            manifest TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE completions (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id),
            text TEXT NOT NULL,
            model_id INTEGER REFERENCES models(id),
            checkpoint_id INTEGER REFERENCES checkpoints(id),
            job_id INTEGER REFERENCES jobs(id),
            settings TEXT NOT NULL DEFAULT '{}',
            seed INTEGER,
            num_tokens INTEGER,
            finish_reason TEXT,              -- stop | length
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX completions_prompt ON completions(prompt_id)",
        """CREATE TABLE comparisons (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompts(id),
            completion_ids TEXT NOT NULL,    -- JSON list, in the order shown
            outcome TEXT NOT NULL,           -- a | b | tie | both_bad | ranking
            ranking TEXT,                    -- JSON list of completion ids, best first
            source TEXT NOT NULL,            -- human | ai | rule
            judge TEXT,
            confidence REAL,
            seconds REAL,
            note TEXT,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX comparisons_prompt ON comparisons(prompt_id)",
        """CREATE TABLE rules (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            weight REAL NOT NULL DEFAULT 1.0,
            enabled INTEGER NOT NULL DEFAULT 1,
            gate INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            name TEXT,
            algorithm TEXT NOT NULL,
            config TEXT NOT NULL DEFAULT '{}',
            dataset TEXT,                    -- JSON snapshot: ids of the rows used
            dataset_hash TEXT,
            model_id INTEGER REFERENCES models(id),
            parent_checkpoint_id INTEGER REFERENCES checkpoints(id),
            job_id INTEGER REFERENCES jobs(id),
            status TEXT NOT NULL DEFAULT 'queued',
            heartbeat REAL,
            error TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            ended_at REAL
        )""",
        """CREATE TABLE metrics (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            step INTEGER NOT NULL,
            name TEXT NOT NULL,
            value REAL,
            time REAL NOT NULL
        )""",
        "CREATE INDEX metrics_run ON metrics(run_id, id)",
        """CREATE TABLE samples (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            step INTEGER NOT NULL,
            prompt TEXT NOT NULL,
            completion TEXT NOT NULL,
            rewards TEXT NOT NULL DEFAULT '{}',
            advantage REAL,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX samples_run ON samples(run_id, step)",
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'queued',  -- queued | running | done | failed | cancelled
            priority INTEGER NOT NULL DEFAULT 0,
            progress_done INTEGER NOT NULL DEFAULT 0,
            progress_total INTEGER NOT NULL DEFAULT 0,
            message TEXT,
            result TEXT,
            error TEXT,
            traceback TEXT,
            worker_id INTEGER REFERENCES workers(id),
            heartbeat REAL,
            created_at REAL NOT NULL,
            started_at REAL,
            ended_at REAL
        )""",
        "CREATE INDEX jobs_status ON jobs(status, priority, id)",
        """CREATE TABLE control (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs(id),
            command TEXT NOT NULL,           -- pause | resume | stop | checkpoint | sample | cancel
            created_at REAL NOT NULL,
            handled_at REAL
        )""",
        "CREATE INDEX control_job ON control(job_id, handled_at)",
        """CREATE TABLE workers (
            id INTEGER PRIMARY KEY,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            status TEXT NOT NULL,            -- idle | busy | stopped
            device TEXT,
            loaded_model TEXT,
            current_job_id INTEGER,
            started_at REAL NOT NULL,
            heartbeat REAL NOT NULL
        )""",
    ],
    # 2: evaluations and per-rule scores (rules issue); human overrides of automatic labels.
    [
        """CREATE TABLE evaluations (
            id INTEGER PRIMARY KEY,
            job_id INTEGER REFERENCES jobs(id),
            model_id INTEGER REFERENCES models(id),
            checkpoint_id INTEGER REFERENCES checkpoints(id),
            split TEXT,
            num_prompts INTEGER NOT NULL,
            sampling TEXT NOT NULL DEFAULT '{}',
            rules TEXT NOT NULL DEFAULT '[]',  -- the rule specs used, as they were then
            summary TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE completion_scores (
            id INTEGER PRIMARY KEY,
            completion_id INTEGER NOT NULL REFERENCES completions(id),
            evaluation_id INTEGER REFERENCES evaluations(id),
            rule TEXT NOT NULL,
            score REAL NOT NULL,
            passed INTEGER NOT NULL,
            reason TEXT,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX completion_scores_completion ON completion_scores(completion_id)",
        "CREATE INDEX completion_scores_evaluation ON completion_scores(evaluation_id)",
        "ALTER TABLE comparisons ADD COLUMN superseded_by INTEGER REFERENCES comparisons(id)",
        "CREATE UNIQUE INDEX rules_name ON rules(name)",
    ],
    # 3: unpaired thumbs-up/down labels (KTO data); a run's summary, step and log.
    [
        """CREATE TABLE completion_labels (
            id INTEGER PRIMARY KEY,
            completion_id INTEGER NOT NULL REFERENCES completions(id),
            desirable INTEGER NOT NULL,      -- 1 thumbs-up, 0 thumbs-down
            source TEXT NOT NULL,            -- human | ai | rule
            judge TEXT,
            confidence REAL,
            note TEXT,
            created_at REAL NOT NULL,
            superseded_by INTEGER REFERENCES completion_labels(id)
        )""",
        "CREATE INDEX completion_labels_completion ON completion_labels(completion_id)",
        "ALTER TABLE runs ADD COLUMN summary TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE runs ADD COLUMN step INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN max_steps INTEGER",
        """CREATE TABLE run_logs (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            time REAL NOT NULL,
            message TEXT NOT NULL
        )""",
        "CREATE INDEX run_logs_run ON run_logs(run_id, id)",
        "CREATE INDEX checkpoints_run ON checkpoints(run_id, step)",
    ],
    # 4: a rater's answers on pairs re-shown to measure their own consistency. Kept apart
    # from comparisons so a repeated label is never counted twice in training.
    [
        """CREATE TABLE consistency_checks (
            id INTEGER PRIMARY KEY,
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,
            outcome_as_shown TEXT NOT NULL,  -- a | b | tie | both_bad, of the order shown
            completion_ids TEXT NOT NULL,    -- JSON list, in the order shown (swapped)
            agrees INTEGER NOT NULL,         -- 1 when it says what the comparison says
            seconds REAL,
            note TEXT,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX consistency_checks_comparison ON consistency_checks(comparison_id)",
        "CREATE INDEX comparisons_source ON comparisons(source, superseded_by)",
    ],
    # 5: arena battles, one blind vote between two entrants (base model, checkpoints, or
    # external models of an imported file); the ratings are fitted from them.
    [
        """CREATE TABLE arena_battles (
            id INTEGER PRIMARY KEY,
            model_a TEXT NOT NULL,           -- entrant names: base, checkpoint-ID, external
            model_b TEXT NOT NULL,
            winner TEXT NOT NULL,            -- model_a | model_b | tie | tie (bothbad)
            source TEXT NOT NULL,            -- human | ai | import
            judge TEXT,
            prompt_id INTEGER REFERENCES prompts(id),
            completion_a_id INTEGER REFERENCES completions(id),
            completion_b_id INTEGER REFERENCES completions(id),
            checkpoint_a_id INTEGER REFERENCES checkpoints(id),  -- NULL: base or external
            checkpoint_b_id INTEGER REFERENCES checkpoints(id),
            comparison_id INTEGER REFERENCES comparisons(id),    -- the label the vote became
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX arena_battles_source ON arena_battles(source, id)",
    ],
    # 6: stored comparisons of models and checkpoints on the same prompts (workbench compare).
    # Named apart from `comparisons`, which holds preference labels. Each entry's scores are
    # an evaluation of its own, so they sit in completion_scores as eval's do.
    [
        """CREATE TABLE comparison_sets (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            key TEXT NOT NULL,               -- sha256 of entrants, prompts, decoding and rules
            prompt_set TEXT NOT NULL,        -- JSON: how the prompts were chosen
            prompt_ids TEXT NOT NULL,        -- JSON list: the prompts compared, in order
            sampling TEXT NOT NULL,          -- JSON SamplingSettings; seed 0 of `seeds`
            seeds INTEGER NOT NULL DEFAULT 1,  -- sampled: seeds 0..seeds-1; greedy: 1
            rules TEXT NOT NULL DEFAULT '[]',  -- the rule specs used, as they were then
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX comparison_sets_key ON comparison_sets(key)",
        """CREATE TABLE comparison_set_entries (
            id INTEGER PRIMARY KEY,
            comparison_set_id INTEGER NOT NULL REFERENCES comparison_sets(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,       -- 0: the baseline
            model_id INTEGER NOT NULL REFERENCES models(id),
            checkpoint_id INTEGER REFERENCES checkpoints(id),  -- NULL: the bare base model
            evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),
            UNIQUE (comparison_set_id, position)
        )""",
    ],
    # 7: worker lanes (training beside interactive jobs), the log file of a detached worker
    # and why it ended, so a window opened later can attach to it and explain its death.
    [
        # lane: any | training | interactive (workbench/jobs/lanes.py)
        "ALTER TABLE workers ADD COLUMN lane TEXT NOT NULL DEFAULT 'any'",
        "ALTER TABLE workers ADD COLUMN log_path TEXT",
        "ALTER TABLE workers ADD COLUMN exit_reason TEXT",
    ],
    # 8: sweeps, a grid over one or two settings queued as ordinary runs; each run of one
    # keeps its sweep and the point of the grid it trains (workbench/training/sweeps.py).
    [
        """CREATE TABLE sweeps (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            base_config TEXT NOT NULL,       -- JSON: the run config every point starts from
            grid TEXT NOT NULL,              -- JSON: {setting: [values]}, in the order given
            created_at REAL NOT NULL
        )""",
        "ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id)",
        "ALTER TABLE runs ADD COLUMN sweep_point TEXT",  # JSON: {setting: value} of this run
        "CREATE INDEX runs_sweep ON runs(sweep_id)",
    ],
    # 9: a reward model's score of a completion (workbench/comparing/reward_scores.py), kept
    # once per completion and reward checkpoint, and the reward model a comparison shows.
    [
        """CREATE TABLE reward_model_scores (
            id INTEGER PRIMARY KEY,
            completion_id INTEGER NOT NULL REFERENCES completions(id),
            checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),  -- of a reward run
            score REAL NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (completion_id, checkpoint_id)
        )""",
        "ALTER TABLE comparison_sets ADD COLUMN reward_model_id INTEGER REFERENCES checkpoints(id)",
    ],
    # 10: what a live run is doing (workbench/training/run_phase.py), so a window that
    # attaches later sees it, with the smoothed step time and ETA; a run's tags and note.
    [
        "ALTER TABLE runs ADD COLUMN phase TEXT",  # engine.training.phases; NULL once ended
        "ALTER TABLE runs ADD COLUMN phase_done INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN phase_total INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN phase_at REAL",  # when phase and eta_s were written
        "ALTER TABLE runs ADD COLUMN step_seconds REAL",  # smoothed, pauses left out
        "ALTER TABLE runs ADD COLUMN eta_s REAL",
        "ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",  # JSON list of strings
        "ALTER TABLE runs ADD COLUMN note TEXT",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The project was written by a newer version of the app."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it was at before.

    Each migration runs in one transaction together with its version bump, so a crash
    mid-migration leaves the previous version intact.
    """
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"This project uses database version {current}, but this app knows only up to "
            f"{SCHEMA_VERSION}. Update Alignment Workbench to open it."
        )
    for version in range(current, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return current
