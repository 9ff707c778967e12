// A BuildKit SBOM generator (docs/attestations/sbom-protocol.md in moby/buildkit) around the real syft, for the
// workflow tier: docker/buildkit-syft-scanner is not served by the Go module proxy, and a build with sbom: true
// (the reusable workflow's default) pulls its generator image. This one is built from syft and this program and
// served as docker/buildkit-syft-scanner by a local mirror. Each target's SPDX JSON, from `syft scan dir:<target>`,
// is written as an in-toto statement to $BUILDKIT_SCAN_DESTINATION/<target name>.spdx.json.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func scan(target, destination string) error {
	out, err := exec.Command("/syft", "scan", "dir:"+target, "-o", "spdx-json", "-q").Output()
	if err != nil {
		return fmt.Errorf("syft scan %s: %w", target, err)
	}
	statement := map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": "https://spdx.dev/Document",
		"subject":       []any{},
		"predicate":     json.RawMessage(out),
	}
	data, err := json.Marshal(statement)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(destination, filepath.Base(target)+".spdx.json"), data, 0o644)
}

func main() {
	destination := os.Getenv("BUILDKIT_SCAN_DESTINATION")
	source := os.Getenv("BUILDKIT_SCAN_SOURCE")
	if destination == "" || source == "" {
		fmt.Fprintln(os.Stderr, "BUILDKIT_SCAN_DESTINATION and BUILDKIT_SCAN_SOURCE are required")
		os.Exit(2)
	}
	targets := []string{source}
	if extras := os.Getenv("BUILDKIT_SCAN_SOURCE_EXTRAS"); extras != "" {
		if entries, err := os.ReadDir(extras); err == nil {
			for _, entry := range entries {
				targets = append(targets, filepath.Join(extras, entry.Name()))
			}
		}
	}
	for _, target := range targets {
		if err := scan(target, destination); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
