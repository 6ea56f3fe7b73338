# CUDA image: PyTorch's CUDA libtorch + the self-contained `charactergen` server.
# Build:  docker build -t charactergen .
# Run:    docker run --gpus all -p 50051:50051 -p 8188:8188 -v /path/to/ComfyUI/models:/models charactergen
# Not exercised by CI (no GPU, no Docker there); the CPU path is what scripts/test.sh checks.
FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04 AS build
ENV DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
RUN apt-get update && apt-get install -y --no-install-recommends cmake g++ python3-pip curl ca-certificates libicu70 \
 && pip3 install --no-cache-dir torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124 \
 && curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0 --install-dir /usr/share/dotnet \
 && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
WORKDIR /src
COPY . .
# CG_TORCH_PREFIX points the shim's cmake at the CUDA libtorch inside the PyTorch wheel.
RUN export CG_TORCH_PREFIX="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')" \
 && dotnet publish src/Server/CharacterGen.Server.csproj -c Release -r linux-x64 --self-contained -o /out \
 && cp "$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"/*.so* /out/

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
RUN apt-get update && apt-get install -y --no-install-recommends libvips42 libgomp1 libicu70 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out /app
ENV LD_LIBRARY_PATH=/app
EXPOSE 50051 8188
ENTRYPOINT ["/app/charactergen"]
CMD ["serve", "--models", "/models", "--data", "/data"]
