import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { isUploadId } from '../domain/ids.js';
import type { UploadRepository } from '../repositories/upload.repository.js';
import type { UploadRow } from '../repositories/types.js';

/**
 * One of the actor's live uploads. Someone else's upload, deleted or not, is reported exactly
 * like a missing one (404), so ids of other users reveal nothing; the actor's own deleted
 * upload is 410.
 */
export async function ownedUpload(uploads: UploadRepository, actor: Actor, id: string): Promise<UploadRow> {
  const row = isUploadId(id) ? await uploads.findById(id) : undefined;
  if (!row || row.user_id !== actor.userId) throw new AppError('UPLOAD_NOT_FOUND', `You have no upload with id ${id}.`);
  if (row.deleted_at) throw new AppError('UPLOAD_GONE', `Upload ${id} has been deleted.`);
  return row;
}
