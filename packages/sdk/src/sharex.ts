/**
 * A ShareX custom uploader (`.sxcu`) for this API, as ShareX 13 and later import it. One
 * source for the CLI (`discord-images sharex`) and the web app's setup page, so that both
 * always match docs/sharex.md.
 */

/** The fields of a `.sxcu` file that this server needs, in ShareX's own spelling. */
export interface SharexUploader {
  Version: string;
  Name: string;
  DestinationType: 'ImageUploader';
  RequestMethod: 'POST';
  RequestURL: string;
  Headers: { token: string };
  Body: 'MultipartFormData';
  FileFormName: 'files[]';
  URL: string;
  ThumbnailURL: string;
  DeletionURL: string;
  ErrorMessage: string;
}

export interface SharexUploaderOptions {
  /** The server's address (its PUBLIC_URL), such as `https://img.example.com`. */
  baseUrl: string;
  /** The API key ShareX sends in the `token` header. */
  token: string;
  /**
   * The uploader's name in ShareX's destination menus.
   * @default "Discord Images"
   */
  name?: string;
}

/**
 * The uploader object; `JSON.stringify(sharexUploader(...), null, 2)` is the file. ShareX
 * posts the image as one `files[]` part and reads the share link, thumbnail, deletion link and
 * error message from the JSON answer.
 */
export function sharexUploader({ baseUrl, token, name = 'Discord Images' }: SharexUploaderOptions): SharexUploader {
  return {
    Version: '14.0.0',
    Name: name,
    DestinationType: 'ImageUploader',
    RequestMethod: 'POST',
    RequestURL: `${baseUrl.replace(/\/+$/, '')}/api/upload`,
    Headers: { token },
    Body: 'MultipartFormData',
    FileFormName: 'files[]',
    URL: '{json:files[0].url}',
    ThumbnailURL: '{json:files[0].thumbnail_url}',
    DeletionURL: '{json:files[0].delete_url}',
    ErrorMessage: '{json:message}',
  };
}
