// Vite's "?raw" imports (used by tests): the file's text.
declare module '*?raw' {
  const text: string;
  export default text;
}
