"""The single DynamoDB table: schema, keys, connection and one repository per entity."""

from services.store.articles import ArticleRepository, DynamoArticleRepository
from services.store.configurations import ConfigurationRepository, DynamoConfigurationRepository
from services.store.schema import GLOBAL_INDEXES, TTL_ATTRIBUTE, create_table_request
from services.store.sessions import DynamoSessionRepository, SessionRepository, token_hash
from services.store.table import SchemaMismatchError, dynamodb_client, dynamodb_table, ensure_table
from services.store.tokens import DynamoTokenRepository, TokenRepository
from services.store.users import DynamoUserRepository, UserRepository, email_hash

__all__ = [
    "GLOBAL_INDEXES",
    "TTL_ATTRIBUTE",
    "ArticleRepository",
    "ConfigurationRepository",
    "DynamoArticleRepository",
    "DynamoConfigurationRepository",
    "DynamoSessionRepository",
    "DynamoTokenRepository",
    "DynamoUserRepository",
    "SchemaMismatchError",
    "SessionRepository",
    "TokenRepository",
    "UserRepository",
    "create_table_request",
    "dynamodb_client",
    "dynamodb_table",
    "email_hash",
    "ensure_table",
    "token_hash",
]
