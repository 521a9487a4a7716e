export class OsrmHttpBackend {}
