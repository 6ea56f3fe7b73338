// Stored images (the Assets service): a photo upload, and asset ids as object URLs for <img> (an <img src> cannot
// carry the API key header, and the character calls return asset ids rather than bytes).
import { create, type DescMethodUnary } from "@bufbuild/protobuf";
import { assets, transport } from "./api";
import { Assets, UploadAssetRequestSchema, UploadAssetResponseSchema } from "./gen/charactergen/v1/assets_pb";

/**
 * Stores a file with Assets.Upload and returns its asset id. Upload is client-streaming, which a browser's fetch
 * cannot stream; a client stream of one message is the same bytes on the wire as a unary call, so the file goes as
 * one chunk (up to the server's message size limit, 4 MiB by default; a larger file is refused with that reason).
 */
export async function uploadImage(file: File): Promise<string> {
  const request = create(UploadAssetRequestSchema, {
    fileName: file.name.replace(/[\\/\p{Cc}]/gu, "_").slice(0, 200) || "photo",
    contentType: file.type || "application/octet-stream",
    chunk: new Uint8Array(await file.arrayBuffer()),
  });
  const asUnary = Assets.method.upload as unknown as DescMethodUnary<typeof UploadAssetRequestSchema, typeof UploadAssetResponseSchema>;
  const response = await transport.unary(asUnary, undefined, undefined, undefined, request, undefined);
  return response.message.assetId;
}

// Asset ids are content hashes, so a downloaded image never changes: keep its URL for the page's lifetime.
const urls = new Map<string, Promise<string>>();

/** An asset as an object URL (Assets.Download's chunks joined), fetched once per id. */
export function assetUrl(assetId: string): Promise<string> {
  let url = urls.get(assetId);
  if (!url) {
    url = (async () => {
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      let type = "image/png";
      for await (const part of assets.download({ assetId })) {
        if (part.info?.contentType) type = part.info.contentType;
        chunks.push(part.chunk as Uint8Array<ArrayBuffer>);
      }
      return URL.createObjectURL(new Blob(chunks, { type }));
    })();
    url.catch(() => urls.delete(assetId)); // a failed download is tried again next time
    urls.set(assetId, url);
  }
  return url;
}
