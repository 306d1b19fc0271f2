/** What both builds export besides their DiscordImages class. */
export { ApiError, NetworkError } from './errors.js';
export type {
  CallOptions,
  DiscordImagesOptions,
  ListOptions,
  RegisterOptions,
  RetryOptions,
  UploadFile,
  UploadInput,
  UploadOptions,
} from './client.js';
export type * from './types.js';
export { sharexUploader } from './sharex.js';
export type { SharexUploader, SharexUploaderOptions } from './sharex.js';
