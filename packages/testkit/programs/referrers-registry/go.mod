module github.com/golden-image/golden-image/packages/testkit/programs/referrers-registry

go 1.25.0

require github.com/google/go-containerregistry v0.22.1
