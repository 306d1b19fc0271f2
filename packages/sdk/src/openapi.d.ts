/**
 * PLACEHOLDER until `npm run openapi` generates this file from ../openapi.json (openapi
 * branch). Same shape as openapi-typescript's output; replaced wholesale by the merge.
 */
export type paths = Record<string, never>;
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    UploadResponse: {
      id: string;
      name: string;
      url: string;
      raw_url: string;
      thumbnail_url: string;
      delete_url: string;
      mime: string;
      size: number;
      width: number;
      height: number;
      sha256: string;
      created_at: string;
    };
    UploadCreatedResponse: { files: components['schemas']['UploadResponse'][] };
    UserResponse: { id: string; username: string; role: 'admin' | 'user'; created_at: string };
    ApiKeyResponse: { id: string; name: string; hint: string; created_at: string; last_used_at: string | null };
    RegisterResponse: { user: components['schemas']['UserResponse']; key: components['schemas']['ApiKeyResponse']; token: string };
    LoginResponse: { user: components['schemas']['UserResponse']; csrf_token: string };
    AccountResponse: {
      id: string;
      username: string;
      role: 'admin' | 'user';
      created_at: string;
      usage: { bytes: number; files: number };
      quota_bytes: number | null;
      csrf_token?: string;
    };
    CreatedKeyResponse: { key: components['schemas']['ApiKeyResponse']; token: string };
    EmbedFieldsResponse: {
      enabled: boolean;
      site_name: string;
      title: string;
      description: string;
      author: string;
      author_url: string;
      color: string;
    };
    EmbedPatchBody: {
      enabled?: boolean | null;
      site_name?: string | null;
      title?: string | null;
      description?: string | null;
      author?: string | null;
      author_url?: string | null;
      color?: string | null;
    };
    EmbedSettingsResponse: {
      settings: {
        enabled: boolean | null;
        site_name: string | null;
        title: string | null;
        description: string | null;
        author: string | null;
        author_url: string | null;
        color: string | null;
      };
      defaults: components['schemas']['EmbedFieldsResponse'];
      effective: components['schemas']['EmbedFieldsResponse'];
    };
    OEmbedResponse: {
      version: '1.0';
      type: 'link';
      title: string;
      author_name?: string;
      author_url?: string;
      provider_name: string;
      provider_url: string;
      thumbnail_url: string;
      thumbnail_width: number;
      thumbnail_height: number;
    };
    EmbedPreviewResponse: {
      tags: { attribute: 'property' | 'name' | 'link'; key: string; content: string }[];
      html: string;
      oembed: components['schemas']['OEmbedResponse'] | null;
    };
    ErrorResponse: { statusCode: number; code: string; error: string; message: string; request_id: string };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
