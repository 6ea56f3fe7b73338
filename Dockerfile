# CUDA image: a CUDA libtorch (from PyTorch's wheel) + the self-contained `charactergen` server, run as a non-root
# user with a HEALTHCHECK on the gRPC health service.
#   Build:  docker build -t charactergen .
#   Run:    docker run --gpus all -p 50051:50051 -p 8188:8188 -e CHARACTERGEN_AUTH__APIKEYS__0=SECRET \
#             -v /path/to/ComfyUI/models:/models:ro -v charactergen-data:/data charactergen
# The server refuses a network address without an API key or bearer token, hence the key in the run line.
# `docker build` is not run by CI (no Docker engine there): scripts/docker-mirror.sh runs the same build script
# (scripts/docker-build.sh) with the CPU libtorch, then serves as a non-root user and runs the HEALTHCHECK command,
# so a change that breaks these steps fails scripts/test.sh. Keep the two in step.
ARG CUDA_VERSION=12.8.1
ARG UBUNTU=ubuntu24.04
FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-${UBUNTU} AS build
ARG TORCH_VERSION=2.7.1
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128
ENV DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# nodejs/npm (18.x in Ubuntu 24.04, as in Debian 12) build the web page from web/package-lock.json.
RUN apt-get update && apt-get install -y --no-install-recommends cmake g++ make python3 python3-pip curl ca-certificates libicu74 nodejs npm \
 && pip3 install --break-system-packages --no-cache-dir "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}" \
 && curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0 --install-dir /usr/share/dotnet \
 && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
WORKDIR /src
COPY . .
# The shim's cmake takes libtorch from python3's torch (native/CMakeLists.txt); the script copies it into /out/lib.
RUN CG_TORCH_FROM_PYTHON=1 scripts/docker-build.sh /out

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-${UBUNTU}
RUN apt-get update && apt-get install -y --no-install-recommends libvips42 libgomp1 libicu74 libsqlite3-0 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin charactergen \
 && mkdir -p /data /models && chown charactergen:charactergen /data
COPY --from=build /out /app
# The web page (GET / on the HTTP port) and the shipped workflows come with the app.
ENV LD_LIBRARY_PATH=/app/lib CHARACTERGEN_DEVICE=cuda:0 CHARACTERGEN_WEBROOT=/app/web CHARACTERGEN_WORKFLOWSDIR=/app/workflows
USER charactergen
EXPOSE 50051 8188
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/app/charactergen", "health", "--address", "http://127.0.0.1:50051"]
ENTRYPOINT ["/app/charactergen"]
CMD ["serve", "--listen", "0.0.0.0", "--models", "/models", "--data", "/data"]
