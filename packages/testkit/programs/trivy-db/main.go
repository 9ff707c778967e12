// Command golden-image-trivy-db writes a small Trivy vulnerability DB (and optionally an empty Java DB) from the
// advisories kept as YAML in the repository, with the fixture loader Trivy's own integration tests use.
//
//	golden-image-trivy-db -advisories DIR -out CACHE [-updated-at T] [-next-update T] [-java-db]
//
// writes CACHE/db/trivy.db and CACHE/db/metadata.json (and CACHE/java-db/trivy-java.db with its metadata.json).
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"
	"time"

	fixtures "github.com/aquasecurity/bolt-fixtures"
	javadb "github.com/aquasecurity/trivy-java-db/pkg/db"
	_ "modernc.org/sqlite" // the Java DB's database/sql driver, as Trivy registers it
)

func main() {
	advisories := flag.String("advisories", "", "directory of bolt-fixtures YAML files")
	out := flag.String("out", "", "Trivy cache directory to write db/ (and java-db/) into")
	updatedAt := flag.String("updated-at", "2026-01-01T00:00:00Z", "UpdatedAt (RFC 3339)")
	nextUpdate := flag.String("next-update", "2099-01-01T00:00:00Z", "NextUpdate (RFC 3339); a past time makes Trivy try to update")
	withJava := flag.Bool("java-db", false, "also write an empty Java DB")
	flag.Parse()
	if *advisories == "" || *out == "" {
		log.Fatal("-advisories and -out are required")
	}
	updated, next := mustTime(*updatedAt), mustTime(*nextUpdate)

	files, err := filepath.Glob(filepath.Join(*advisories, "*.yaml"))
	check(err)
	dbDir := filepath.Join(*out, "db")
	check(os.MkdirAll(dbDir, 0o755))
	dbPath := filepath.Join(dbDir, "trivy.db")
	check(os.RemoveAll(dbPath))
	loader, err := fixtures.New(dbPath, files)
	check(err)
	check(loader.Load())
	check(loader.Close())
	// The fields of trivy-db's metadata.Metadata; Version 2 is trivy-db's SchemaVersion.
	writeJSON(filepath.Join(dbDir, "metadata.json"), map[string]any{
		"Version": 2, "NextUpdate": next, "UpdatedAt": updated, "DownloadedAt": updated,
	})

	if *withJava {
		javaDir := filepath.Join(*out, "java-db")
		check(os.RemoveAll(javaDir))
		jdb, err := javadb.New(javaDir)
		check(err)
		check(jdb.Init())
		check(jdb.Close())
		meta := javadb.NewMetadata(javaDir)
		check(meta.Update(javadb.Metadata{
			Version: javadb.SchemaVersion, NextUpdate: next, UpdatedAt: updated, DownloadedAt: updated,
		}))
	}
}

func mustTime(value string) time.Time {
	t, err := time.Parse(time.RFC3339, value)
	check(err)
	return t.UTC()
}

func writeJSON(path string, value any) {
	bytes, err := json.Marshal(value)
	check(err)
	check(os.WriteFile(path, bytes, 0o644))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
