export function NotFoundPage() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page here. Go to <a href="/tokens">Tokens</a>.
      </p>
    </section>
  );
}
