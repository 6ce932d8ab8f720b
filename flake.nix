{
  description = "pipeops-agent: keeps the PipeOps gateway's route registry in step with a cluster's Ingresses";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # The one place the version is written is package.json.
      version = (builtins.fromJSON (builtins.readFile ./package.json)).version;
    in
    {
      packages = forAllSystems (pkgs: rec {
        default = pkgs.buildNpmPackage {
          pname = "pipeops-agent";
          inherit version;
          src = ./.;
          nodejs = pkgs.nodejs_22;
          # Update after changing package-lock.json: nix build reports the expected hash.
          npmDepsHash = pkgs.lib.fakeHash;
          npmBuildScript = "build";
          meta.mainProgram = "pipeops-agent";
        };

        # The OCI image: the same entrypoint as the Dockerfile's, as a non-root user.
        image = pkgs.dockerTools.buildLayeredImage {
          name = "pipeops-agent";
          tag = version;
          contents = [ pkgs.cacert ];
          config = {
            Entrypoint = [ "${pkgs.nodejs_22}/bin/node" "--max-semi-space-size=4" "${default}/lib/node_modules/pipeops-agent/dist/main.js" ];
            Cmd = [ "run" ];
            User = "65532:65532";
            Env = [ "NODE_ENV=production" "LOG_FORMAT=json" "NODE_COMPILE_CACHE=/tmp/node-compile-cache" ];
            ExposedPorts = { "8080/tcp" = { }; };
            StopSignal = "SIGTERM";
          };
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.nodejs_22 pkgs.kubectl ];
        };
      });
    };
}
