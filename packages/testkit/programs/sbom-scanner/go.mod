module github.com/golden-image/golden-image/packages/testkit/programs/sbom-scanner

go 1.25.0
