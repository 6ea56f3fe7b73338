// The server, as the page sees it: gRPC-Web clients generated from protos/ (same origin, so no CORS), and the few
// ComfyUI HTTP routes that are simpler for a page (/view for images, /api/history for a job's workflow).
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Workflows } from "./gen/charactergen/v1/workflows_pb";
import { Models } from "./gen/charactergen/v1/models_pb";
import { Characters } from "./gen/charactergen/v1/characters_pb";
import { Assets } from "./gen/charactergen/v1/assets_pb";

const keyStorage = "charactergen.apiKey";

/** The API key lives in sessionStorage only: gone when the tab closes. */
export const apiKey = {
  get: (): string => sessionStorage.getItem(keyStorage) ?? "",
  set: (key: string) => (key ? sessionStorage.setItem(keyStorage, key) : sessionStorage.removeItem(keyStorage)),
};

const withKey: Interceptor = (next) => (request) => {
  const key = apiKey.get();
  if (key) request.header.set("x-api-key", key);
  return next(request);
};

export const transport = createGrpcWebTransport({ baseUrl: location.origin, useBinaryFormat: true, interceptors: [withKey] });
export const workflows = createClient(Workflows, transport);
export const models = createClient(Models, transport);
export const characters = createClient(Characters, transport);
export const assets = createClient(Assets, transport);

export const isUnauthenticated = (error: unknown) => ConnectError.from(error).code === Code.Unauthenticated;
export const errorText = (error: unknown) => ConnectError.from(error).rawMessage;

export class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** GET on the HTTP API with the key; throws HttpError on a non-2xx answer. */
export async function httpGet(path: string): Promise<Response> {
  const key = apiKey.get();
  const response = await fetch(path, { headers: key ? { "x-api-key": key } : {} });
  if (!response.ok) throw new HttpError(response.status, `${path}: HTTP ${response.status}`);
  return response;
}

export interface FileRef { filename: string; subfolder: string; type: string; }

/** An output image as an object URL (an <img src> cannot carry the key header). */
export async function imageUrl(file: FileRef): Promise<string> {
  const query = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type || "output" });
  return URL.createObjectURL(await (await httpGet(`/api/view?${query}`)).blob());
}
