// The npm chain: pack one tarball, scan that tarball, publish exactly it, read it back.
export {};
