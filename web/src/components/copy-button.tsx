import { useState } from 'preact/hooks';

/**
 * Copies `text`. The clipboard API exists only in secure contexts (https or
 * localhost); elsewhere the text of `fallback` is selected and copied the old way.
 */
export function CopyButton({ text, fallback, label = 'Copy' }: { text: string; fallback?: () => HTMLElement | null; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
      } else {
        const element = fallback?.();
        if (!element) throw new Error('no clipboard');
        const range = document.createRange();
        range.selectNodeContents(element);
        const selection = window.getSelection();
        selection?.removeAllRanges();
        selection?.addRange(range);
        if (!document.execCommand('copy')) throw new Error('copy refused');
      }
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <span class="copy">
      <button type="button" class="button-small" onClick={copy}>
        {label}
      </button>
      <span class="muted" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select the text and copy it by hand' : ''}
      </span>
    </span>
  );
}
