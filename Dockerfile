# syntax=docker/dockerfile:1
# synthflow-mock: an offline mock of Synthflow's GET /v2/calls/{call_id}, as a FROM scratch image.
#
#   docker build -t synthflow-mock:local .
#   docker run --rm -p 8080:8080 synthflow-mock:local
#
# The build stage runs dist/build-static.sh, the same script that builds the static binaries
# outside Docker (one recipe, not two). The final stage holds the two static executables and
# nothing else: no shell, no package manager, no libc; the fixtures are embedded in the mock.
# dist/test-static.sh runs these same executables in an empty chroot, the stand-in for this stage
# on machines without a Docker daemon.

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# The script prints everything on stderr except the two paths (mock, check) on stdout.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eu; \
    bash dist/build-static.sh > /tmp/paths; \
    mkdir -p /out; \
    cp $(cat /tmp/paths) /out/; \
    ls -l /out

FROM scratch
LABEL org.opencontainers.image.title="synthflow-mock" \
      org.opencontainers.image.description="Offline mock of Synthflow's GET /v2/calls/{call_id}, fixtures embedded; also synthflow-check, the contract suite" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="0.1.0" \
      synthflow-mock.health-path="/healthz"
COPY --from=build /out/synthflow-mock /synthflow-mock
# The contract suite, so a CI job can check any target with the same image:
#   docker run --rm --entrypoint /synthflow-check -e SYNTHFLOW_API_KEY synthflow-mock:local --base-url ... --call-id ...
COPY --from=build /out/synthflow-check /synthflow-check
# No /etc/passwd in scratch: a numeric non-root user (the distroless "nonroot" ids).
USER 65532:65532
EXPOSE 8080
# Exec form: scratch has no shell. The subcommand does GET /healthz on 127.0.0.1 itself.
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 \
    CMD ["/synthflow-mock", "healthcheck", "--port", "8080"]
ENTRYPOINT ["/synthflow-mock"]
# Inside a container loopback is unreachable from outside: listen on all interfaces.
CMD ["--host", "0.0.0.0", "--port", "8080"]
