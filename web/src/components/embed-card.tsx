import type { EmbedPreview } from '@discord-images/sdk';

/**
 * A share link's embed drawn the way Discord draws it: the colour bar on the left, then the site
 * name, the author, the title (a link), the description and the large image. Everything comes
 * from the server's preview (the very tags the share page writes) and is rendered as text.
 */
export function EmbedCard({ preview }: { preview: EmbedPreview }) {
  const tag = (key: string) => preview.tags.find((item) => item.key === key)?.content;
  const image = tag('og:image');
  const url = tag('og:url');
  const title = tag('og:title');
  const siteName = tag('og:site_name');
  const description = tag('og:description');
  const color = tag('theme-color');
  const author = preview.oembed?.author_name;
  const authorUrl = preview.oembed?.author_url;
  const alt = tag('og:image:alt') ?? '';
  const width = Number(tag('og:image:width')) || undefined;
  const height = Number(tag('og:image:height')) || undefined;

  // Embeds off: Discord shows the bare image, without text or colour.
  if (!preview.oembed) {
    return (
      <div class="discord-message" data-testid="embed-preview">
        {image && <img class="discord-bare-image" src={image} alt={alt} width={width} height={height} />}
      </div>
    );
  }
  return (
    <div class="discord-message" data-testid="embed-preview">
      <article class="discord-embed" style={color ? { borderLeftColor: color } : undefined} data-color={color} aria-label="Embed preview">
        {siteName && <div class="discord-site">{siteName}</div>}
        {author &&
          (authorUrl ? (
            <a class="discord-author" href={authorUrl} target="_blank" rel="noreferrer">
              {author}
            </a>
          ) : (
            <div class="discord-author">{author}</div>
          ))}
        {title &&
          (url ? (
            <a class="discord-title" href={url} target="_blank" rel="noreferrer">
              {title}
            </a>
          ) : (
            <div class="discord-title">{title}</div>
          ))}
        {description && <div class="discord-description">{description}</div>}
        {image && <img class="discord-image" src={image} alt={alt} width={width} height={height} />}
      </article>
    </div>
  );
}
