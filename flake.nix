{
  description = "pipeops-agent: keeps the PipeOps gateway's route registry in step with a cluster's Ingresses";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        default = pkgs.buildNpmPackage {
          pname = "pipeops-agent";
          version = "0.1.0";
          src = ./.;
          nodejs = pkgs.nodejs_22;
          # Update after changing package-lock.json: nix build reports the expected hash.
          npmDepsHash = pkgs.lib.fakeHash;
          npmBuildScript = "build";
          meta.mainProgram = "pipeops-agent";
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.nodejs_22 pkgs.kubectl ];
        };
      });
    };
}
