/** Repository-relative path → the text the generated validator module should hold. */
export function compileSchemas(): Map<string, string>;
