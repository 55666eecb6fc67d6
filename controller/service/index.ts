/** The service layer the admin API, CLI and web console share, and the proto mappers they use. */
export {
  createControllerService, type ControllerService, type ControllerServiceDeps, type NodeSelection, type NodeView, type AccountView,
  type ChangeRequestView, type WatchUpdate,
} from './controller-service';
export * from './proto-mappers';
