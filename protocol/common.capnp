@0x859a1d7cfebaeffb;

struct Placeholder { x @0 :UInt32; }
