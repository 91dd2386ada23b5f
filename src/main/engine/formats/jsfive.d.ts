// Types of the parts of jsfive (a pure-JavaScript HDF5 reader) the Keras H5 reader uses.
declare module 'jsfive' {
  export class DataObjects {
    find_msg_type(type: number): Map<string, number>[];
    _get_data_message_properties(msgOffset: number): [number, number, number, number];
  }
  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    readonly dtype: string | unknown[];
    readonly value: unknown;
    readonly attrs: Record<string, unknown>;
    readonly _dataobjects: DataObjects;
  }
  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
}
