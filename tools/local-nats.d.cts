export declare function localNatsConfig(opts: { port: number; storeDir: string }): string;
