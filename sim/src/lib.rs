//! A stateful fake Buffer that serves the classic REST API and the GraphQL API from one store.
#![deny(missing_docs)]
