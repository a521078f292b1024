import { extname } from 'node:path';

/** Content types guessed from a name's extension when an upload names none (as Swift does with mimetypes). */
const TYPES: Record<string, string> = {
  '.txt': 'text/plain', '.html': 'text/html', '.htm': 'text/html', '.css': 'text/css', '.js': 'application/javascript',
  '.json': 'application/json', '.xml': 'application/xml', '.csv': 'text/csv', '.md': 'text/markdown',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml', '.webp': 'image/webp', '.ico': 'image/vnd.microsoft.icon',
  '.pdf': 'application/pdf', '.zip': 'application/zip', '.gz': 'application/gzip', '.tgz': 'application/gzip', '.tar': 'application/x-tar',
  '.bz2': 'application/x-bzip2', '.xz': 'application/x-xz', '.iso': 'application/x-iso9660-image', '.qcow2': 'application/octet-stream',
  '.mp4': 'video/mp4', '.mp3': 'audio/mpeg', '.wav': 'audio/x-wav', '.yaml': 'application/yaml', '.yml': 'application/yaml',
};

export function guessType(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}
