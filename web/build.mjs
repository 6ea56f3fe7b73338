// Builds the page into dist/: generates TypeScript clients from ../protos with protoc-gen-es (protoc comes from the
// Grpc.Tools NuGet package the server build restores, or $PROTOC), type-checks, bundles with esbuild.
// Usage: npm run build            (after npm ci; the .NET build must have restored Grpc.Tools first)
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url)); // not import.meta.dirname: Debian 12 has Node 18
const protos = join(here, "..", "protos");
const generated = join(here, "src", "gen");
const dist = join(here, "dist");

const nuget = process.env.NUGET_PACKAGES ?? join(homedir(), ".nuget", "packages");

/** The newest version of a NuGet package in the local cache that holds `file`, as that version's folder. */
function fromNuget(packageId, file) {
  const root = join(nuget, packageId);
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => a.localeCompare(b, "en", { numeric: true })) : [];
  for (const version of versions.reverse()) if (existsSync(join(root, version, file))) return join(root, version);
  throw new Error(`${packageId} (${file}) not in ${nuget}: build the server first (dotnet build restores it)`);
}

const protoc = process.env.PROTOC ?? join(fromNuget("grpc.tools", "tools/linux_x64/protoc"), "tools/linux_x64/protoc");
const include = join(fromNuget("grpc.tools", "build/native/include/google/protobuf/struct.proto"), "build/native/include");
// google/api/annotations.proto (the HTTP rules the protos import) ships with the JSON transcoding package.
const httpRules = join(fromNuget("microsoft.aspnetcore.grpc.jsontranscoding", "content/protos/google/api/annotations.proto"), "content/protos");
rmSync(generated, { recursive: true, force: true });
mkdirSync(generated, { recursive: true });
const sources = ["workflows", "models", "assets", "characters"].map((name) => `charactergen/v1/${name}.proto`)
  .concat(["google/api/annotations.proto", "google/api/http.proto", "google/rpc/status.proto"]);
execFileSync(protoc, [
  `--plugin=protoc-gen-es=${join(here, "node_modules", ".bin", "protoc-gen-es")}`,
  `--es_out=${generated}`, "--es_opt=target=ts,import_extension=none",
  `-I${protos}`, `-I${httpRules}`, `-I${include}`, ...sources,
], { stdio: "inherit" });

execFileSync(join(here, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", here], { stdio: "inherit" });

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [join(here, "src", "main.ts")],
  bundle: true, minify: true, sourcemap: false, format: "esm", target: "es2022",
  outfile: join(dist, "app.js"), logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) cpSync(join(here, "static", file), join(dist, file));
console.log(`web page built into ${dist}`);
