/** The parts of the Docker Engine API's request and answer bodies that scrapydd uses (field names as the API spells them). */

export interface BindMount {
  Type: 'bind';
  /** Absolute path on the Docker host. */
  Source: string;
  /** Absolute path in the container. */
  Target: string;
  ReadOnly: boolean;
}

export interface HostConfig {
  Mounts?: BindMount[];
  CapDrop?: string[];
  SecurityOpt?: string[];
  ReadonlyRootfs?: boolean;
  /** Mount point → mount options, e.g. { "/tmp": "rw,nosuid,nodev" }. */
  Tmpfs?: Record<string, string>;
  PidsLimit?: number;
  /** `bridge`, `host`, `none`, or a network's name; absent: the daemon's default. */
  NetworkMode?: string;
  LogConfig?: { Type: string; Config?: Record<string, string> };
}

export interface ContainerCreateBody {
  Image: string;
  Entrypoint?: string[];
  Cmd: string[];
  /** NAME=value; added to the image's own environment. */
  Env?: string[];
  WorkingDir?: string;
  /** uid:gid */
  User?: string;
  Labels?: Record<string, string>;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  OpenStdin?: boolean;
  /** Close the container's stdin once the attached client goes away. */
  StdinOnce?: boolean;
  Tty?: boolean;
  HostConfig: HostConfig;
}

export interface DockerVersion {
  Version?: string;
  ApiVersion?: string;
  Os?: string;
  Arch?: string;
  Components?: { Name: string; Version: string }[];
}

export interface ImageInfo {
  /** sha256:... */
  Id: string;
  RepoTags?: string[] | null;
}

export interface ContainerInfo {
  Id: string;
  State: {
    Status: string;
    Running: boolean;
    /** The main process on the host; 0 once stopped. */
    Pid: number;
    ExitCode: number;
    OOMKilled?: boolean;
  };
}

export interface ContainerSummary {
  Id: string;
  State: string;
  Labels: Record<string, string> | null;
}
