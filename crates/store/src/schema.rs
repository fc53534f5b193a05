//! The schema, as migrations applied in order (the database's `user_version` counts them).

use rusqlite_migration::{M, Migrations};

/// Every migration, oldest first. Append only: never edit a released one.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r"
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            as_of TEXT NOT NULL,
            rubric TEXT NOT NULL,
            spec_hash TEXT NOT NULL,
            options TEXT NOT NULL
        );
        CREATE INDEX runs_spec ON runs(spec_hash, status);

        CREATE TABLE sites (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            ordinal INTEGER NOT NULL,
            spec TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            started_at TEXT,
            finished_at TEXT,
            stats TEXT,
            homepage TEXT,
            UNIQUE (run_id, ordinal)
        );

        CREATE TABLE frontier (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL,
            url TEXT NOT NULL,
            depth INTEGER NOT NULL,
            state INTEGER NOT NULL,
            note TEXT,
            UNIQUE (site_id, url)
        );

        CREATE TABLE pages (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL,
            url TEXT NOT NULL,
            final_url TEXT NOT NULL,
            depth INTEGER NOT NULL,
            status INTEGER,
            outcome TEXT NOT NULL,
            content_type TEXT,
            encoding TEXT,
            size INTEGER NOT NULL,
            truncated INTEGER NOT NULL,
            elapsed_ms INTEGER NOT NULL,
            content_hash TEXT,
            fetched_at TEXT NOT NULL,
            title TEXT,
            kind TEXT,
            published TEXT,
            model TEXT,
            UNIQUE (site_id, url)
        );

        CREATE TABLE links (
            site_id INTEGER NOT NULL,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            internal INTEGER NOT NULL,
            outcome TEXT,
            status INTEGER,
            elapsed_ms INTEGER,
            final_url TEXT,
            checked_at TEXT,
            sources INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (site_id, url)
        ) WITHOUT ROWID;

        CREATE TABLE link_sources (
            site_id INTEGER NOT NULL,
            url TEXT NOT NULL,
            page TEXT NOT NULL,
            text TEXT,
            hidden INTEGER NOT NULL,
            PRIMARY KEY (site_id, url, page)
        ) WITHOUT ROWID;

        CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL,
            scope TEXT NOT NULL,
            page_url TEXT,
            check_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            page TEXT,
            target TEXT,
            evidence TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX findings_site ON findings(site_id, scope);
        CREATE UNIQUE INDEX findings_page_once ON findings(site_id, page_url, check_id, ifnull(target, ''), evidence) WHERE scope = 'page';

        CREATE TABLE probes (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            status INTEGER,
            elapsed_ms INTEGER NOT NULL,
            error TEXT
        );
        CREATE INDEX probes_url_at ON probes(url, at);
        ",
        ),
        // LSH band hashes of articles and each site's boilerplate, for twins across sites.
        M::up(
            r"
        CREATE TABLE site_boilerplate (
            site_id INTEGER PRIMARY KEY,
            lines BLOB NOT NULL
        );
        CREATE TABLE article_bands (
            page_id INTEGER NOT NULL,
            band INTEGER NOT NULL,
            hash INTEGER NOT NULL,
            site_id INTEGER NOT NULL,
            PRIMARY KEY (page_id, band)
        ) WITHOUT ROWID;
        CREATE INDEX article_bands_bucket ON article_bands(band, hash, site_id);
        ",
        ),
        // The same site in other runs, by the URL it was given as: the history checks' lookup.
        M::up(
            r"
        CREATE INDEX sites_given ON sites(json_extract(spec, '$.given'), status);
        ",
        ),
        // Pages read as the browser drew them, and screenshots of the pages behind vetoes.
        M::up(
            r"
        ALTER TABLE pages ADD COLUMN rendered INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE screenshots (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL,
            page_url TEXT NOT NULL,
            file TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            taken_at TEXT NOT NULL,
            UNIQUE (site_id, page_url)
        );
        ",
        ),
        // Scored results as data (issue 12): each scoring of a run with every site's verdict,
        // score, veto items, deductions and findings at their final severity; and the limit a
        // check set on a finding's weight, which the rubric applies at scoring.
        M::up(
            r"
        ALTER TABLE findings ADD COLUMN at_most TEXT;
        CREATE TABLE scorings (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            rubric TEXT NOT NULL,
            rubric_title TEXT NOT NULL,
            as_of TEXT NOT NULL,
            source TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX scorings_run ON scorings(run_id, finished_at);
        CREATE TABLE site_scores (
            scoring_id INTEGER NOT NULL REFERENCES scorings(id),
            site_id INTEGER NOT NULL REFERENCES sites(id),
            url TEXT NOT NULL,
            name TEXT,
            level TEXT,
            region TEXT,
            verdict TEXT NOT NULL,
            score REAL NOT NULL,
            vetoes INTEGER NOT NULL,
            final_url TEXT,
            title TEXT,
            PRIMARY KEY (scoring_id, site_id)
        );
        CREATE INDEX site_scores_verdict ON site_scores(scoring_id, verdict);
        CREATE INDEX site_scores_region ON site_scores(scoring_id, region);
        CREATE TABLE site_vetoes (
            scoring_id INTEGER NOT NULL,
            site_id INTEGER NOT NULL,
            check_id TEXT NOT NULL,
            item TEXT NOT NULL,
            count INTEGER NOT NULL,
            min_count INTEGER NOT NULL,
            PRIMARY KEY (scoring_id, site_id, check_id, item)
        );
        CREATE INDEX site_vetoes_check ON site_vetoes(scoring_id, check_id);
        CREATE TABLE site_deductions (
            scoring_id INTEGER NOT NULL,
            site_id INTEGER NOT NULL,
            check_id TEXT NOT NULL,
            item TEXT NOT NULL,
            count INTEGER NOT NULL,
            points REAL NOT NULL,
            capped INTEGER NOT NULL,
            PRIMARY KEY (scoring_id, site_id, check_id)
        );
        CREATE TABLE scored_findings (
            id INTEGER PRIMARY KEY,
            scoring_id INTEGER NOT NULL,
            site_id INTEGER NOT NULL,
            check_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            page TEXT,
            target TEXT,
            evidence TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX scored_findings_check ON scored_findings(scoring_id, check_id, severity);
        CREATE INDEX scored_findings_site ON scored_findings(scoring_id, site_id);
        ",
        ),
    ])
}
