/**
 * Upload a new version of a project: an egg file, its version (from the file
 * name unless typed), progress while it goes, and the server's answer in
 * place (a broken egg's `scrapy list` error included).
 */
import { useRef, useState } from 'preact/hooks';
import { resourcePath, upload } from '../api/client';
import { lastSegment } from '../api/names';
import type { Version } from '../api/types';
import { Field, fieldError, FormError, SubmitButton } from '../components/form';
import { useNotice } from '../components/notice';
import { versionFromFileName } from './egg-version';

export function UploadVersion(props: { project: string; onUploaded: (v: Version) => void }) {
  const { notify } = useNotice();
  const fileRef = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | undefined>(undefined);
  const [version, setVersion] = useState('');
  const [typed, setTyped] = useState(false);
  const [progress, setProgress] = useState<number | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  function chooseFile(f: File | undefined) {
    setFile(f);
    setError(undefined);
    if (f && !typed) setVersion(versionFromFileName(f.name));
  }

  async function submit(event: Event) {
    event.preventDefault();
    if (!file) return setError(new Error('Choose an egg file to upload.'));
    const form = new FormData();
    form.append('version', version.trim()); // before the file: the server reads the fields first
    form.append('egg', file, file.name);
    setProgress(0);
    setError(undefined);
    try {
      const v = await upload<Version>(`${resourcePath(`projects/${props.project}`)}/versions:upload`, form, setProgress);
      notify(`Version ${lastSegment(v.name)} uploaded: ${(v.spiders ?? []).length} spider(s).`);
      setFile(undefined);
      setVersion('');
      setTyped(false);
      if (fileRef.current) fileRef.current.value = '';
      props.onUploaded(v);
    } catch (err) {
      setError(err);
    } finally {
      setProgress(undefined);
    }
  }

  const busy = progress !== undefined;
  return (
    <form class="stack-form upload-form" onSubmit={submit} noValidate>
      <Field label="Egg file" hint="A Python egg of the Scrapy project (scrapydd package builds one)." error={fieldError(error, 'egg')}>
        {(id, d, invalid) => (
          <input id={id} ref={fileRef} type="file" name="egg" accept=".egg,application/zip" aria-invalid={invalid} aria-describedby={d} onChange={(e) => chooseFile(e.currentTarget.files?.[0])} />
        )}
      </Field>
      <Field label="Version" hint="From the file name (quotes-1.2.egg → 1.2), else the time; letters, digits, _ . -" error={fieldError(error, 'version') ?? fieldError(error, 'version_id')}>
        {(id, d, invalid) => (
          <input
            id={id}
            name="version"
            value={version}
            maxLength={100}
            aria-invalid={invalid}
            aria-describedby={d}
            onInput={(e) => {
              setVersion(e.currentTarget.value);
              setTyped(e.currentTarget.value !== '');
            }}
          />
        )}
      </Field>
      {busy && (
        <div class="upload-progress">
          <label for="upload-progress">{progress < 1 ? `Uploading… ${Math.round(progress * 100)} %` : 'Checking the egg (listing its spiders)…'}</label>
          <progress id="upload-progress" max={1} value={progress} />
        </div>
      )}
      <FormError error={error} fields={['egg', 'version', 'version_id']} />
      <SubmitButton busy={busy} busyLabel="Uploading…">
        Upload version
      </SubmitButton>
    </form>
  );
}
